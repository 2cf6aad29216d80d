import { setMaxListeners } from 'node:events';

/**
 * The one AbortController of a command (STYLE 6): SIGINT or SIGTERM aborts it, the command unwinds what it created
 * and the entry exits 130. A second signal while cleaning up is ignored: cleanup is what keeps the host tidy.
 */
export async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  // Every concurrent engine call listens on it (a load or logs of many nodes): not a leak.
  setMaxListeners(0, controller.signal);
  const onSignal = () => {
    if (!controller.signal.aborted) {
      process.stderr.write('\ninterrupted: cleaning up (this can take a few seconds)\n');
      controller.abort();
    }
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
