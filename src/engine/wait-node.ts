import { setTimeout as sleep } from 'node:timers/promises';
import { RootletError } from '../errors.js';
import type { Engine } from './engine.js';
import { engineName } from './errors.js';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

const UP = new Set(['running', 'degraded']);

/**
 * Waits until systemd inside the node reports running or degraded, polling `systemctl is-system-running`
 * (matching console lines fails on rootless Podman). A node that exits or restarts while booting has died.
 */
export async function waitForNode(engine: Engine, name: string, { timeoutMs, intervalMs = 250, signal }: WaitOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let restarts: number | undefined;
  let lastAnswer = 'no answer yet';
  for (;;) {
    signal?.throwIfAborted();
    const state = await engine.inspectNode(name);
    if (!state)
      throw new RootletError('node-missing', `node ${name} disappeared from ${engineName(engine.info)} while it was booting`, {
        hint: 'something removed the container: re-run the command',
      });
    restarts ??= state.restarts;
    if (state.status === 'exited' || state.status === 'dead' || state.restarts > restarts) {
      throw await died(engine, name, state.exitCode === undefined ? 'restarted' : `exited with code ${state.exitCode}`);
    }
    if (state.status === 'running') {
      const answer = await engine.exec(name, ['systemctl', 'is-system-running'], signal ? { signal } : {}).catch((error: unknown) => ({
        exitCode: -1,
        stdout: '',
        stderr: error instanceof Error ? error.message : String(error),
      }));
      lastAnswer = (answer.stdout.trim() || answer.stderr.trim() || `exit ${answer.exitCode}`).split('\n')[0]!;
      if (UP.has(answer.stdout.trim())) return;
    }
    if (Date.now() >= deadline) {
      throw await died(engine, name, `did not finish booting within ${Math.round(timeoutMs / 1000)} s (systemctl is-system-running: ${lastAnswer})`, 'timeout');
    }
    await sleep(intervalMs, undefined, signal ? { signal } : {});
  }
}

async function died(engine: Engine, name: string, what: string, code = 'node-died'): Promise<RootletError> {
  const log = await engine.logs(name, 15).catch(() => '');
  const tail = log.trim().split(/\r?\n/).slice(-15).join('\n  ');
  return new RootletError(code, `node ${name} on ${engineName(engine.info)} ${what}${tail ? `; its last console lines:\n  ${tail}` : ''}`, {
    hint: `rootlet keeps nothing half-made; re-run with --retain to keep the node and inspect it (${engine.info.kind} logs ${name})`,
  });
}
