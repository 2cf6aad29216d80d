import { z } from 'zod';
import { ExitCode, RootletError } from '../errors.js';
import { engineFor } from '../cluster/engine-choice.js';
import { allClusterStatuses, type ClusterStatus } from '../cluster/status.js';
import { LocalHost } from '../host/local-host.js';
import { clusterFlags, engineChoiceFlags } from './cluster-flags.js';
import { colorFor, printJson, tableLines } from './output.js';
import { parseOptions } from './parse-options.js';
import { withInterrupt } from './interrupt.js';
import { connectSsh } from './ssh-connect.js';
import { readMembers } from '../cluster/members.js';
import { memberNodes } from '../cluster/member-hosts.js';

const Options = engineChoiceFlags.extend({ name: clusterFlags.shape.name, json: z.boolean().default(false) });

function readyText(ready: boolean | undefined): string {
  return ready === undefined ? 'unknown' : ready ? 'Ready' : 'NotReady';
}

function render(clusters: ClusterStatus[], paint: ReturnType<typeof colorFor>): string {
  const out: string[] = [];
  for (const cluster of clusters) {
    const state = cluster.ready ? paint('green', 'ready') : paint('yellow', 'not ready');
    out.push(
      `${paint('bold', cluster.name)}  ${state}  Kubernetes ${cluster.kubernetesVersion ?? 'unknown'}, CNI ${cluster.cni ?? 'unknown'}, ${cluster.engine}`,
    );
    if (cluster.apiServer) out.push(`  API server ${cluster.apiServer}, kubeconfig context ${cluster.context}`);
    const rows = cluster.nodes.map((node) => [node.name, node.role, node.host, node.container, readyText(node.ready), node.ports.join(' ') || '-']);
    out.push(...tableLines(['NODE', 'ROLE', 'HOST', 'CONTAINER', 'KUBERNETES', 'PORTS'], rows));
    if (cluster.userNamespacedPods)
      out.push(`  pods with hostUsers: false: ${cluster.userNamespacedPods.ready ? 'can run' : 'cannot run'} (${cluster.userNamespacedPods.reason})`);
    for (const problem of cluster.problems) out.push(`  ${paint('yellow', 'problem')}: ${problem}`);
    out.push('');
  }
  return out.join('\n');
}

/** `rootlet status` (one or every cluster, in detail) and `rootlet ls` (every cluster, one line each). */
export async function statusCommand(raw: unknown, { list = false } = {}): Promise<number> {
  const options = parseOptions(Options, raw);
  const host = new LocalHost();
  const engine = await engineFor(host, { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful }, process.env);
  const clusters = await withInterrupt((signal) =>
    allClusterStatuses(engine, options.name, async (cluster) => {
      const members = await readMembers(host, process.env, cluster);
      const answers = await memberNodes(members, cluster, connectSsh, signal);
      // Only what is labelled with that host: the remote user may run a cluster of the same name.
      return members.map((member, index) => ({
        member,
        answer: { ...answers[index]!, nodes: answers[index]!.nodes.filter((node) => node.hostId === member.host) },
      }));
    }),
  );
  if (options.name !== undefined && clusters.length === 0)
    throw new RootletError('no-cluster', `no cluster named ${options.name} on ${engine.info.kind}`, {
      exitCode: ExitCode.failure,
      hint: '`rootlet ls` lists the clusters; `rootlet up --name NAME` creates one',
    });
  if (options.json) {
    printJson({ clusters });
    return ExitCode.ok;
  }
  if (clusters.length === 0) {
    process.stdout.write('No rootlet clusters. `rootlet up` creates one.\n');
    return ExitCode.ok;
  }
  if (list) {
    for (const cluster of clusters)
      process.stdout.write(
        `${cluster.name}\t${cluster.ready ? 'ready' : 'not-ready'}\t${cluster.nodes.length} node${cluster.nodes.length === 1 ? '' : 's'}\t${cluster.apiServer ?? '-'}\n`,
      );
    return ExitCode.ok;
  }
  process.stdout.write(render(clusters, colorFor(process.stdout)));
  return ExitCode.ok;
}
