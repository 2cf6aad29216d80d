import { z } from 'zod';
import { ExitCode } from '../errors.js';
import { upCluster, type UpResult } from '../cluster/up.js';
import { progressStyle } from '../cluster/progress.js';
import { loadClusterFileFrom, clusterFlags, engineChoiceFlags } from './cluster-flags.js';
import { mergeClusterOptions } from '../config/load-cluster-file.js';
import { LocalHost } from '../host/local-host.js';
import { withInterrupt } from './interrupt.js';
import { printJson } from './output.js';
import { parseOptions } from './parse-options.js';

const Options = clusterFlags.extend(engineChoiceFlags.shape).extend({
  file: z.string().min(1).optional(),
  json: z.boolean().default(false),
  retain: z.boolean().default(false),
  skipDoctor: z.boolean().default(false),
  switch: z.boolean().default(true),
});

function summary(result: UpResult): string {
  const workers = result.nodes.filter((node) => node.role === 'worker').length;
  const verb = result.initialized ? 'is up' : 'is up (reconciled: existing nodes kept)';
  const lines = [
    `Cluster ${result.cluster} ${verb}: 1 control plane, ${workers} worker${workers === 1 ? '' : 's'}; Kubernetes ${result.kubernetesVersion}, CNI ${result.cni}, ${result.engine}; ${result.seconds}s`,
    `  API server  ${result.apiServer}`,
    `  kubeconfig  context ${result.context} in ${result.kubeconfig}`,
    `  pods with hostUsers: false  ${result.userNamespacedPods.ready ? 'can run' : 'cannot run'}: ${result.userNamespacedPods.reason}`,
    ...result.notes.map((note) => `  note: ${note}`),
    '',
    `Try:  kubectl --context ${result.context} get nodes`,
    `Stop: rootlet down --name ${result.cluster}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `rootlet up`: returns the exit code. */
export async function upCommand(raw: unknown): Promise<number> {
  const options = parseOptions(Options, raw);
  const host = new LocalHost();
  const file = options.file === undefined ? undefined : await loadClusterFileFrom(host, options.file);
  const cluster = mergeClusterOptions(file, options);
  const result = await withInterrupt((signal) =>
    upCluster({
      host,
      cluster,
      engine: { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful },
      skipDoctor: options.skipDoctor,
      retain: options.retain,
      switchContext: options.switch,
      progress: progressStyle({ json: options.json, env: process.env, stderrIsTTY: process.stderr.isTTY === true }),
      signal,
      env: process.env,
    }),
  );
  if (options.json) printJson(result);
  else process.stdout.write(summary(result));
  return ExitCode.ok;
}
