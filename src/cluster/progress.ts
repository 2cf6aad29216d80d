import { ListrLogger, PRESET_TIMER, ProcessOutput, type ListrBaseClassOptions } from 'listr2';
import type { TranscriptEntry } from '../kube/transcript.js';

/**
 * How progress is shown: `fancy` redraws a task list (a terminal), `plain` prints one line per event (pipes, CI,
 * NO_COLOR), `verbose` is plain plus every command run inside the nodes (--verbose), `silent` shows nothing (--json,
 * --quiet). Always on stderr: stdout is data.
 */
export type ProgressStyle = 'fancy' | 'plain' | 'verbose' | 'silent';

/**
 * CI is set by every CI service (true, 1, yes, the service's name); CI=false and an empty CI are how a job says it is
 * not one, as the ci-info package reads them.
 */
export function isCi(env: Record<string, string | undefined>): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value.toLowerCase() !== 'false';
}

export function progressStyle(options: {
  json: boolean;
  quiet?: boolean;
  verbose?: boolean;
  env: Record<string, string | undefined>;
  stderrIsTTY: boolean;
}): ProgressStyle {
  if (options.json || options.quiet) return 'silent';
  if (options.verbose) return 'verbose';
  const plain = !options.stderrIsTTY || isCi(options.env) || options.env.NO_COLOR !== undefined || options.env.TERM === 'dumb';
  return plain ? 'plain' : 'fancy';
}

/** listr2 options for one command: stderr only, no signal handlers of its own (the CLI owns SIGINT and rolls back). */
export function listrOptions(style: ProgressStyle): ListrBaseClassOptions {
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr), useIcons: style === 'fancy' });
  return {
    registerSignalListeners: false,
    exitOnError: true,
    renderer: style === 'silent' ? 'silent' : style === 'fancy' ? 'default' : 'simple',
    fallbackRenderer: 'simple',
    // Each finished task shows how long it took.
    rendererOptions: { logger, collapseSubtasks: false, showErrorMessage: false, timer: PRESET_TIMER },
    fallbackRendererOptions: { logger, timestamp: undefined, timer: PRESET_TIMER },
  } as ListrBaseClassOptions;
}

/** With --verbose, each command run inside a node as one stderr line when it ends (redacted by the transcript). */
export function commandEcho(style: ProgressStyle): ((entry: TranscriptEntry) => void) | undefined {
  if (style !== 'verbose') return undefined;
  return (entry) => {
    const outcome = entry.exitCode === undefined ? '' : ` -> exit ${entry.exitCode}, ${entry.ms} ms`;
    process.stderr.write(`  [${entry.node}] $ ${entry.command}${outcome}\n`);
  };
}
