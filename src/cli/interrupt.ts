import { setMaxListeners } from 'node:events';
import { ExitCode } from '../errors.js';

export interface InterruptOptions {
  /** How to remove what the command may leave when a second signal stops its cleanup, e.g. "run `rootlet down --name dev`". */
  cleanup?: string;
}

/**
 * The one AbortController of a command (STYLE 6): SIGINT or SIGTERM aborts it, the command unwinds what it created
 * and the entry exits 130. A second signal stops the cleanup too and exits at once: the user asked for it twice, and is
 * told what may be left and how to remove it.
 */
export async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>, options: InterruptOptions = {}): Promise<T> {
  const controller = new AbortController();
  // Every concurrent engine call listens on it (a load or logs of many nodes): not a leak.
  setMaxListeners(0, controller.signal);
  const onSignal = () => {
    if (!controller.signal.aborted) {
      process.stderr.write('\ninterrupted: cleaning up (this can take a few seconds; interrupt again to stop at once)\n');
      controller.abort();
      return;
    }
    const left = options.cleanup === undefined ? '' : `; what this run made may be left: ${options.cleanup}`;
    process.stderr.write(`\ninterrupted again: stopping without cleaning up${left}\n`);
    // The one exit outside the entry: cleanup is still running and would hold the process for as long as it takes.
    // eslint-disable-next-line no-restricted-syntax -- the user asked twice to stop now
    process.exit(ExitCode.interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
