/**
 * One `up` or `down` of a cluster at a time on this host: both hold `<state dir>/<cluster>/lock` while they work. A
 * second one waits for the first (saying for whom) and then does its own work on what the first left, so two ups
 * never make two control planes and an up never builds on nodes a down is removing.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { interrupted, isAbort, RootletError } from '../errors.js';
import type { Host } from '../host/host.js';
import { logDirectory } from './logs.js';
import { formatDuration } from './readiness-wait.js';

export interface ClusterLockOptions {
  /** The command taking the lock, for the messages. */
  command: 'up' | 'down';
  /** How long to wait for another holder; 0 refuses at once. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Told once, when the lock is held by another: what this run waits for. Default: a line on stderr. */
  onWait?: (line: string) => void;
}

/** The cluster's lock file, beside its logs and member list. */
export async function clusterLockPath(host: Host, env: Record<string, string | undefined>, cluster: string): Promise<string> {
  return path.join(await logDirectory(host, env, cluster), 'lock');
}

/** Runs `body` holding the cluster's lock; waits up to `timeoutMs` for another up or down of it, then refuses. */
export async function withClusterLock<T>(
  host: Host,
  env: Record<string, string | undefined>,
  cluster: string,
  body: () => Promise<T>,
  { command, timeoutMs, signal, onWait = (line) => process.stderr.write(`${line}\n`) }: ClusterLockOptions,
): Promise<T> {
  const file = await clusterLockPath(host, env, cluster);
  // The body's own errors pass through untouched, a kubeconfig lock that timed out among them.
  let entered = false;
  const run = () => {
    entered = true;
    return body();
  };
  const attempt = async (wait: number) => {
    try {
      return { value: await host.withLock(file, run, { timeoutMs: wait, ...(signal === undefined ? {} : { signal }) }) };
    } catch (error) {
      if (!entered && (isAbort(error) || signal?.aborted)) throw interrupted(error);
      if (entered || !(error instanceof RootletError && error.code === 'file-locked')) throw error;
      return undefined;
    }
  };
  const first = await attempt(0);
  if (first) return first.value;
  const holder = await describeHolder(host, file);
  if (timeoutMs > 0) {
    onWait(`waiting for ${holder} to finish with cluster ${cluster} (up to ${formatDuration(timeoutMs)}; it holds ${file})`);
    const second = await attempt(timeoutMs);
    if (second) return second.value;
  }
  const busy = timeoutMs > 0 ? `is still busy after ${formatDuration(timeoutMs)}` : 'is busy';
  throw new RootletError('cluster-busy', `cluster ${cluster} ${busy}: ${holder} is working on it`, {
    hint: `let it finish, then run \`rootlet ${command} --name ${cluster}\` again; if no rootlet is running, remove ${file}`,
  });
}

/** "rootlet up (pid 123)" from the lock's `<pid> <hostname>` and that process's command line, as far as they can be read. */
async function describeHolder(host: Host, file: string): Promise<string> {
  const [pid = '', machine] = (await host.readText(file).catch(() => '')).trim().split(/\s+/);
  if (!/^\d+$/.test(pid)) return 'another rootlet';
  // A home directory shared between machines: that pid is not one of ours to look at.
  if (machine !== undefined && machine !== hostname()) return `another rootlet (pid ${pid} on ${machine})`;
  const cmdline = await host.readText(`/proc/${pid}/cmdline`).catch(() => undefined);
  if (cmdline === undefined) return `a rootlet that is gone (pid ${pid}; its lock is taken over once it is a minute old)`;
  // node /path/to/rootlet.js up --name x: the word after the script.
  const argv = cmdline.split('\0');
  const script = argv.findIndex((arg) => /(^|\/)rootlet(\.js)?$/.test(arg));
  const verb = script === -1 ? undefined : argv[script + 1];
  return verb === 'up' || verb === 'down' ? `rootlet ${verb} (pid ${pid})` : `another rootlet (pid ${pid})`;
}
