import { ListrLogger, ProcessOutput, type ListrBaseClassOptions } from 'listr2';

/**
 * How progress is shown: `fancy` redraws a task list (a terminal), `plain` prints one line per event (pipes, CI,
 * NO_COLOR), `silent` shows nothing (--json). Always on stderr: stdout is data.
 */
export type ProgressStyle = 'fancy' | 'plain' | 'silent';

export function progressStyle(options: { json: boolean; env: Record<string, string | undefined>; stderrIsTTY: boolean }): ProgressStyle {
  if (options.json) return 'silent';
  const plain = !options.stderrIsTTY || options.env.CI !== undefined || options.env.NO_COLOR !== undefined || options.env.TERM === 'dumb';
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
    rendererOptions: { logger, collapseSubtasks: false, showErrorMessage: false },
    fallbackRendererOptions: { logger, timestamp: undefined },
  } as ListrBaseClassOptions;
}
