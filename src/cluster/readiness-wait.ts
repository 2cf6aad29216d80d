import { setTimeout as sleep } from 'node:timers/promises';
import { interrupted, isAbort, RootletError } from '../errors.js';
import { kubectlGet, type StepContext } from '../kube/node-steps.js';
import { describePending, evaluateReadiness, type ReadinessExpectations, type ReadinessResult } from '../kube/readiness.js';

export interface WaitReadyOptions extends ReadinessExpectations {
  timeoutMs: number;
  intervalMs?: number;
  signal: AbortSignal;
  onStatus?: (line: string) => void;
}

/**
 * Polls the API server until every expected node (and CoreDNS and the CNI pods, when a CNI is installed) is Ready.
 * A timeout is a failure naming what is not ready and its last events (kind exits 0 on a wait timeout).
 */
export async function waitUntilReady(ctx: StepContext, controlPlane: string, options: WaitReadyOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: ReadinessResult | undefined;
  try {
    for (;;) {
      options.signal.throwIfAborted();
      const [nodes, pods] = await Promise.all([kubectlGet(ctx, controlPlane, ['nodes']), kubectlGet(ctx, controlPlane, ['pods', '-A'])]);
      if (nodes !== undefined && pods !== undefined) {
        last = evaluateReadiness(nodes, pods, options);
        if (last.ready) return;
        options.onStatus?.(`waiting for ${last.pending.map((item) => item.name).join(', ')}`);
      } else {
        options.onStatus?.('waiting for the API server');
      }
      if (Date.now() >= deadline) break;
      await sleep(Math.min(options.intervalMs ?? 300, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal });
    }
  } catch (error) {
    if (isAbort(error) || options.signal.aborted) throw interrupted(error);
    throw error;
  }
  const minutes = formatDuration(options.timeoutMs);
  if (!last)
    throw new RootletError('not-ready', `the API server did not answer within ${minutes}`, {
      hint: 'see the log named below; raise --wait on a slow machine',
    });
  const events = await kubectlGet(ctx, controlPlane, ['events', '-A']);
  const lines = describePending(last, events, 5);
  throw new RootletError('not-ready', `not ready after ${minutes}: ${lines.join('; ')}`, {
    hint: 'raise --wait on a slow machine; `rootlet status` shows the nodes, and the log named below what ran',
  });
}

/** Polls until the API server answers `kubectl get nodes`; a timeout is a failure. */
export async function waitForApiServer(
  ctx: StepContext,
  controlPlane: string,
  options: { timeoutMs: number; intervalMs?: number; signal: AbortSignal; onStatus?: (line: string) => void },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  try {
    for (;;) {
      options.signal.throwIfAborted();
      if ((await kubectlGet(ctx, controlPlane, ['nodes'])) !== undefined) return;
      if (Date.now() >= deadline) break;
      options.onStatus?.('waiting for the API server');
      await sleep(Math.min(options.intervalMs ?? 1000, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal });
    }
  } catch (error) {
    if (isAbort(error) || options.signal.aborted) throw interrupted(error);
    throw error;
  }
  throw new RootletError('api-server-down', `the API server on ${controlPlane} did not answer within ${formatDuration(options.timeoutMs)}`, {
    hint: 'see the log named below; `rootlet status` shows the nodes',
  });
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds % 60 !== 0 || seconds < 60) return `${seconds}s`;
  return `${seconds / 60}m`;
}
