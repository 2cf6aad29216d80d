import { z } from 'zod';
import { ExitCode, UsageError } from '../errors.js';
import { downAll, downCluster, type DownResult } from '../cluster/down.js';
import { engineFor } from '../cluster/engine-choice.js';
import { DEFAULT_CLUSTER_NAME } from '../config/cluster-file.js';
import { LocalHost } from '../host/local-host.js';
import { clusterFlags, engineChoiceFlags } from './cluster-flags.js';
import { printJson } from './output.js';
import { parseOptions } from './parse-options.js';

const Options = engineChoiceFlags.extend({ name: clusterFlags.shape.name, all: z.boolean().default(false), json: z.boolean().default(false) });

/** `rootlet down`: idempotent; a cluster that is not there is already down. */
export async function downCommand(raw: unknown): Promise<number> {
  const options = parseOptions(Options, raw);
  if (options.all && options.name !== undefined) throw new UsageError('--all and --name both choose what to remove', 'Use one of them.');
  const host = new LocalHost();
  const engine = await engineFor(host, { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful }, process.env);
  const results: DownResult[] = options.all
    ? await downAll(host, engine, process.env)
    : [await downCluster(host, engine, options.name ?? DEFAULT_CLUSTER_NAME, process.env)];
  if (options.json) printJson({ removed: results });
  else {
    for (const result of results) {
      const removed = [...result.nodes, ...result.volumes.map((volume) => `volume ${volume}`)];
      const what = removed.length === 0 ? 'no nodes (already down)' : `removed ${removed.join(', ')}`;
      process.stderr.write(`${result.cluster}: ${what}${result.kubeconfig ? `; context rootlet-${result.cluster} removed from ${result.kubeconfig}` : ''}\n`);
    }
    if (results.length === 0) process.stderr.write('No rootlet clusters.\n');
  }
  return ExitCode.ok;
}
