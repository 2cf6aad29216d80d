import { setTimeout as sleep } from 'node:timers/promises';
import { interrupted, isAbort, RootletError } from '../errors.js';
import type { Engine } from './engine.js';
import { engineName } from './errors.js';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** How often the node had restarted when this run started it (0 for a node it just created). */
  restartsBefore?: number;
  /** The caller keeps the node on failure (--retain): the hint says so. */
  retained?: boolean;
}

const UP = new Set(['running', 'degraded']);

/**
 * Waits until systemd inside the node reports running or degraded, polling `systemctl is-system-running`
 * (matching console lines fails on rootless Podman). A node that exits or restarts while booting has died.
 */
export async function waitForNode(engine: Engine, name: string, options: WaitOptions): Promise<void> {
  try {
    await poll(engine, name, options);
  } catch (error) {
    throw isAbort(error) ? interrupted(error) : error;
  }
}

async function poll(engine: Engine, name: string, { timeoutMs, intervalMs = 250, signal, restartsBefore = 0, retained = false }: WaitOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastAnswer = 'no answer yet';
  for (;;) {
    signal?.throwIfAborted();
    const state = await engine.inspectNode(name);
    if (!state)
      throw new RootletError('node-missing', `node ${name} disappeared from ${engineName(engine.info)} while it was booting`, {
        hint: 'something removed the container: re-run the command',
      });
    if (state.status === 'exited' || state.status === 'dead' || state.restarts > restartsBefore) {
      throw await died(engine, name, state.exitCode === undefined ? 'restarted' : `exited with code ${state.exitCode}`, 'node-died', retained);
    }
    if (state.status === 'running') {
      // Each look inside ends by the deadline: a hung systemctl must not hang the wait.
      const bounded = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
      const answer = await engine
        .exec(name, ['systemctl', 'is-system-running'], { signal: signal ? AbortSignal.any([signal, bounded]) : bounded })
        .catch((error: unknown) => {
          if (signal?.aborted) throw error;
          // Cut off at the deadline: what systemd said before stays the last answer.
          if (bounded.aborted) return undefined;
          return { exitCode: -1, stdout: '', stderr: error instanceof Error ? error.message : String(error) };
        });
      if (answer) lastAnswer = (answer.stdout.trim() || answer.stderr.trim() || `exit ${answer.exitCode}`).split('\n')[0]!;
      if (answer && UP.has(answer.stdout.trim())) return;
    }
    if (Date.now() >= deadline) {
      throw await died(
        engine,
        name,
        `did not finish booting within ${Math.round(timeoutMs / 1000)} s (systemctl is-system-running: ${lastAnswer})`,
        'timeout',
        retained,
      );
    }
    await sleep(intervalMs, undefined, signal ? { signal } : {});
  }
}

async function died(engine: Engine, name: string, what: string, code: string, retained: boolean): Promise<RootletError> {
  const log = await engine.logs(name, 15).catch(() => '');
  const tail = log.trim().split(/\r?\n/).slice(-15).join('\n  ');
  return new RootletError(code, `node ${name} on ${engineName(engine.info)} ${what}${tail ? `; its last console lines:\n  ${tail}` : ''}`, {
    hint: retained
      ? `the node was kept (--retain): ${engine.info.kind} logs ${name}, ${engine.info.kind} exec -it ${name} sh`
      : 'rootlet removes what it made when a step fails; re-run with --retain to keep the node and look inside',
  });
}
