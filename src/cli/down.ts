import { z } from 'zod';
import { ExitCode, UsageError } from '../errors.js';
import { downAll, downCluster, downHost, type DownResult } from '../cluster/down.js';
import { engineFor } from '../cluster/engine-choice.js';
import { DEFAULT_CLUSTER_NAME } from '../config/cluster-file.js';
import { LocalHost } from '../host/local-host.js';
import { clusterFlags, engineChoiceFlags } from './cluster-flags.js';
import { withInterrupt } from './interrupt.js';
import { printJson } from './output.js';
import { parseOptions } from './parse-options.js';
import { connectSsh } from './ssh-connect.js';
import { resolveSshHost } from '../host/ssh-config.js';
import { parseSshTarget, targetId } from '../host/ssh-target.js';

/** A member's node name, `<cluster>-<hostname>`: a DNS label. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const Options = engineChoiceFlags.extend({
  name: clusterFlags.shape.name,
  all: z.boolean().default(false),
  host: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

/** `rootlet down`: idempotent; a cluster that is not there is already down. */
export async function downCommand(raw: unknown): Promise<number> {
  const options = parseOptions(Options, raw);
  if (options.all && options.name !== undefined) throw new UsageError('--all and --name both choose what to remove', 'Use one of them.');
  if (options.all && options.host !== undefined) throw new UsageError('--host removes one host of one cluster, --all every cluster', 'Use one of them.');
  // Refused before any engine is asked: what is neither an SSH host nor a node name cannot name a member.
  if (options.host !== undefined && !NODE_NAME.test(options.host)) parseSshTarget(options.host);
  const host = new LocalHost();
  const engine = await engineFor(host, { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful }, process.env);
  const name = options.name ?? DEFAULT_CLUSTER_NAME;
  return withInterrupt(async (signal) => {
    const remote = { connect: connectSsh, signal };
    if (options.host !== undefined) {
      // HOST as join takes it (an ssh config alias too), else as written (a node name, user@host of a member).
      const resolved = await resolveSshHost(host, options.host, {}).then(
        (found) => targetId(found.target),
        () => options.host!,
      );
      const result = await downHost(host, engine, name, process.env, resolved, remote, options.host);
      if (options.json) printJson({ removed: [{ cluster: name, hosts: [result] }] });
      else
        process.stderr.write(
          `${name}: ${result.drained ? `node ${result.node} drained and deleted from the cluster; ` : ''}removed ${result.nodes.join(', ') || 'nothing (already gone)'} on ${result.host}\n`,
        );
      return ExitCode.ok;
    }
    const results: DownResult[] = options.all ? await downAll(host, engine, process.env, remote) : [await downCluster(host, engine, name, process.env, remote)];
    if (options.json) printJson({ removed: results });
    else {
      for (const result of results) {
        const removed = [...result.nodes, ...result.volumes.map((volume) => `volume ${volume}`)];
        const what = removed.length === 0 ? 'no nodes here (already down)' : `removed ${removed.join(', ')}`;
        process.stderr.write(`${result.cluster}: ${what}${result.kubeconfig ? `; context rootlet-${result.cluster} removed from ${result.kubeconfig}` : ''}\n`);
        for (const hostResult of result.hosts)
          process.stderr.write(
            hostResult.error
              ? `${result.cluster}: ${hostResult.host}: not removed: ${hostResult.error.message} (run down again to retry)\n`
              : `${result.cluster}: ${hostResult.host}: removed ${hostResult.nodes.join(', ') || 'nothing (already gone)'}\n`,
          );
      }
      if (results.length === 0) process.stderr.write('No rootlet clusters.\n');
    }
    const failure = results.flatMap((result) => result.hosts).find((hostResult) => hostResult.error);
    return (failure?.error?.exitCode as ExitCode | undefined) ?? ExitCode.ok;
  });
}
