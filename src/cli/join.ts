import { z } from 'zod';
import { UsageError } from '../errors.js';
import { DEFAULT_CLUSTER_NAME, parseDuration, type HostEntry } from '../config/cluster-file.js';
import { engineFor } from '../cluster/engine-choice.js';
import { joinExitCode, joinHosts, type JoinOptions, type JoinResult, type JoinTarget } from '../cluster/join.js';
import type { Engine } from '../engine/engine.js';
import type { Host } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import { resolveSshHost } from '../host/ssh-config.js';
import { targetId } from '../host/ssh-target.js';
import { connectSsh } from './ssh-connect.js';
import { clusterFlags, engineChoiceFlags, ignoreCheckFlag, loadClusterFileFrom, progressFlags, progressOf } from './cluster-flags.js';
import { withInterrupt } from './interrupt.js';
import { colorFor, printJson, tableLines } from './output.js';
import { parseOptions } from './parse-options.js';

const Options = engineChoiceFlags.extend(progressFlags.shape).extend({
  name: clusterFlags.shape.name,
  file: z.string().min(1).optional(),
  identity: z.array(z.string().min(1)).default([]),
  sshConfig: z.string().min(1).optional(),
  acceptNewHostKeys: z.boolean().default(false),
  skipDoctor: z.boolean().default(false),
  ignoreCheck: ignoreCheckFlag,
  retain: z.boolean().default(false),
  wait: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

/** A cluster file's host entry as the HOST argument it stands for. */
function entryText(entry: HostEntry): string {
  const host = entry.address.includes(':') ? `[${entry.address}]` : entry.address;
  return `${entry.user === undefined ? '' : `${entry.user}@`}${host}${entry.port === undefined ? '' : `:${entry.port}`}`;
}

export interface TargetSources {
  args: readonly string[];
  entries: readonly HostEntry[];
  identity: readonly string[];
  sshConfig: string | undefined;
}

/** HOST arguments, else the cluster file's hosts, resolved through the ssh config; every one checked before any connects. */
export async function joinTargets(local: Host, sources: TargetSources): Promise<JoinTarget[]> {
  const fromArgs = sources.args.map((text) => ({ text, identity: [] as string[], advertiseAddress: undefined as string | undefined, extraPorts: [] }));
  const fromFile = sources.entries.map((entry) => ({
    text: entryText(entry),
    identity: entry.identity === undefined ? [] : [entry.identity],
    advertiseAddress: entry.advertiseAddress,
    extraPorts: entry.extraPortMappings,
  }));
  const wanted = fromArgs.length > 0 ? fromArgs : fromFile;
  const targets = await Promise.all(
    wanted.map(async ({ text, identity, advertiseAddress, extraPorts }) => {
      const resolved = await resolveSshHost(local, text, { configFile: sources.sshConfig, identityFiles: [...identity, ...sources.identity] });
      return { text, target: resolved.target, identityFiles: resolved.identityFiles, advertiseAddress, extraPorts };
    }),
  );
  const seen = new Set<string>();
  for (const target of targets) {
    const key = `${target.target.user ?? ''}@${target.target.host}:${target.target.port}`;
    if (seen.has(key)) throw new UsageError(`${target.text} is given twice`, 'name each host once');
    seen.add(key);
  }
  return targets;
}

/** What `rootlet join` and `rootlet up -f` (with hosts) decide; the environment and the SSH client are the CLI's. */
export type JoinRun = Omit<JoinOptions, 'env' | 'connect'> & { local: Host; engine: Engine; cluster: string; targets: JoinTarget[] };

/** The join, as `rootlet join` and `rootlet up -f` (with hosts) run it. */
export function runJoin({ local, engine, cluster, targets, ...options }: JoinRun): Promise<JoinResult> {
  return joinHosts(local, engine, cluster, targets, { ...options, env: process.env, connect: connectSsh });
}

/** What a second Ctrl-C during a join may leave, and the command that removes it. */
export function joinCleanup(cluster: string, targets: readonly JoinTarget[]): string {
  const host = targets.length === 1 ? targetId(targets[0]!.target) : 'HOST';
  return `run \`rootlet down --name ${cluster} --host ${host}\`${targets.length === 1 ? '' : ' for each host'} (not for a host that had joined before)`;
}

/** The per-host table; failures with their reason and next step. */
export function renderJoin(result: JoinResult, paint: ReturnType<typeof colorFor>): string {
  const joined = result.hosts.filter((host) => host.outcome === 'joined' || host.outcome === 'kept').length;
  const lines = [
    `${paint('bold', `Cluster ${result.cluster}`)}: ${joined} of ${result.hosts.length} host${result.hosts.length === 1 ? '' : 's'} joined (${result.seconds}s)`,
  ];
  const rows = result.hosts.map((host) => [host.host, host.node ?? '-', host.address ?? '-', host.outcome === 'kept' ? 'joined already' : host.outcome]);
  lines.push(...tableLines(['HOST', 'NODE', 'ADDRESS', 'RESULT'], rows));
  for (const host of result.hosts.filter((candidate) => candidate.outcome === 'failed' || candidate.outcome === 'skipped')) {
    lines.push(`${paint('red', host.host)}: ${host.reason ?? 'not joined'}`);
    for (const detail of host.error?.details ?? []) lines.push(`  ${detail}`);
    if (host.error?.hint) lines.push(`  hint: ${host.error.hint}`);
  }
  if (result.log) lines.push(`log: ${result.log}`);
  if (joined < result.hosts.length) lines.push('Run the same join again to finish the hosts that failed; the joined ones are kept.');
  return `${lines.join('\n')}\n`;
}

/** `rootlet join HOST...`: returns the exit code (0 only when every host joined). */
export async function joinCommand(raw: unknown, args: string[]): Promise<number> {
  const options = parseOptions(Options, raw);
  const local = new LocalHost();
  const file = await loadClusterFileFrom(local, options.file);
  const cluster = options.name ?? file?.name ?? DEFAULT_CLUSTER_NAME;
  const targets = await joinTargets(local, { args, entries: file?.hosts ?? [], identity: options.identity, sshConfig: options.sshConfig });
  if (targets.length === 0)
    throw new UsageError('no host to join', 'name hosts as [user@]host[:port] arguments, or list them under hosts: in a cluster file (-f FILE)');
  const waitMs = options.wait === undefined ? (file === undefined ? parseDuration('5m') : parseDuration(file.wait)) : parseDuration(options.wait);
  const engine = await engineFor(local, { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful }, process.env);
  const result = await withInterrupt(
    (signal) =>
      runJoin({
        local,
        engine,
        cluster,
        targets,
        acceptNewHostKeys: options.acceptNewHostKeys,
        skipDoctor: options.skipDoctor,
        ignoreChecks: options.ignoreCheck,
        retain: options.retain,
        waitMs,
        progress: progressOf(options),
        signal,
      }),
    { cleanup: joinCleanup(cluster, targets) },
  );
  if (options.json) printJson(result);
  else process.stdout.write(renderJoin(result, colorFor(process.stdout)));
  return joinExitCode(result);
}
