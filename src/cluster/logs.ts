import path from 'node:path';
import type { Engine } from '../engine/engine.js';
import type { Host } from '../host/host.js';
import { redact, type Transcript } from '../kube/transcript.js';

/** Where rootlet keeps a cluster's logs: $XDG_STATE_HOME/rootlet/<cluster>, else ~/.local/state/rootlet/<cluster>. */
export async function logDirectory(host: Host, env: Record<string, string | undefined>, cluster: string): Promise<string> {
  const state = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(await host.homeDir(), '.local', 'state');
  return path.join(state, 'rootlet', cluster);
}

/**
 * Writes what ran in the nodes and the last lines of each node's console to `<log dir>/<command>-<time>.log` (0600),
 * every line redacted. Returns the path.
 */
export async function saveLog(
  host: Host,
  env: Record<string, string | undefined>,
  cluster: string,
  command: string,
  transcript: Transcript,
  engine: Engine | undefined,
  nodes: readonly string[],
): Promise<string> {
  const consoles = engine
    ? await Promise.all(
        nodes.map(async (node) => {
          const log = await engine.logs(node, 200).catch(() => undefined);
          return log === undefined ? '' : `\n===== console of ${node} (last 200 lines) =====\n${redact(log)}`;
        }),
      )
    : [];
  const file = path.join(await logDirectory(host, env, cluster), `${command}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  await host.writeFile(file, `===== commands run in the nodes =====\n${transcript.render()}\n${consoles.join('')}\n`, { mode: 0o600 });
  return file;
}
