import { z } from 'zod';
import { ExitCode, RootletError, UsageError } from '../errors.js';
import { engineFor } from '../cluster/engine-choice.js';
import { exposedKubeconfigWarning, kubeconfigTarget, mergeIntoKubeconfig } from '../cluster/kubeconfig-store.js';
import { apiServerUrl, controlPlaneName } from '../cluster/names.js';
import { ClusterRecord } from '../cluster/record.js';
import { DEFAULT_CLUSTER_NAME } from '../config/cluster-file.js';
import { LocalHost } from '../host/local-host.js';
import { clusterKubeconfig, parseKubeconfig, renderKubeconfig } from '../kube/kubeconfig.js';
import { readAdminKubeconfig, readClusterRecord } from '../kube/node-steps.js';
import { Transcript } from '../kube/transcript.js';
import { clusterFlags, engineChoiceFlags } from './cluster-flags.js';
import { parseOptions } from './parse-options.js';

const Options = engineChoiceFlags.extend({
  name: clusterFlags.shape.name,
  print: z.boolean().default(false),
  merge: z.boolean().default(false),
  switch: z.boolean().default(true),
});

/** `rootlet kubeconfig`: the cluster's kubeconfig, printed (default) or merged into $KUBECONFIG / ~/.kube/config. */
export async function kubeconfigCommand(raw: unknown): Promise<number> {
  const options = parseOptions(Options, raw);
  if (options.print && options.merge) throw new UsageError('--print and --merge both choose where the kubeconfig goes', 'Use one of them.');
  const name = options.name ?? DEFAULT_CLUSTER_NAME;
  const host = new LocalHost();
  const engine = await engineFor(host, { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful }, process.env);
  const controlPlane = controlPlaneName(name);
  const state = await engine.inspectNode(controlPlane);
  if (!state || state.status !== 'running')
    throw new RootletError('no-cluster', state ? `the control plane ${controlPlane} is ${state.status}` : `no cluster named ${name} on ${engine.info.kind}`, {
      hint: state ? `rootlet up --name ${name} starts it again` : '`rootlet ls` lists the clusters',
    });
  const record = ClusterRecord.safeParse(await readClusterRecord(engine, controlPlane));
  if (!record.success)
    throw new RootletError('cluster-incomplete', `cluster ${name} was not set up completely`, { hint: `run rootlet up --name ${name} again` });
  const admin = parseKubeconfig(
    await readAdminKubeconfig({ shell: engine, transcript: new Transcript() }, controlPlane),
    `${controlPlane}:/etc/kubernetes/admin.conf`,
  );
  const { address, port } = record.data.apiServer;
  const entry = clusterKubeconfig(admin, { clusterName: name, server: apiServerUrl(address, port) });
  if (!options.merge) {
    process.stdout.write(renderKubeconfig(entry));
    return ExitCode.ok;
  }
  const target = await kubeconfigTarget(host, process.env);
  const merged = await mergeIntoKubeconfig(host, target, entry, { switchContext: options.switch });
  const warning = exposedKubeconfigWarning(merged);
  if (warning !== undefined) process.stderr.write(`warning: ${warning}\n`);
  process.stderr.write(`context rootlet-${name} written to ${target}${options.switch ? ' (current context)' : ''}\n`);
  return ExitCode.ok;
}
