import type { Engine } from '../engine/engine.js';
import type { NodeState, PortMapping } from '../engine/types.js';
import { kubectlGet, readClusterRecord } from '../kube/node-steps.js';
import { nodeReadiness } from '../kube/readiness.js';
import { Transcript } from '../kube/transcript.js';
import { apiServerUrl, contextName } from './names.js';
import type { MemberHost } from './members.js';
import type { MemberNodes } from './member-hosts.js';
import { ClusterRecord } from './record.js';

/** What a member host answered (or why it did not), for a cluster's status. */
export interface MemberView {
  member: MemberHost;
  answer: MemberNodes;
}

export interface NodeStatus {
  name: string;
  role: 'control-plane' | 'worker';
  host: string;
  /** The container's state. */
  container: string;
  /** The Kubernetes node's Ready condition: undefined when the API server could not be asked. */
  ready: boolean | undefined;
  kubeletVersion: string | undefined;
  ports: string[];
}

export interface ClusterStatus {
  name: string;
  engine: string;
  kubernetesVersion: string | undefined;
  cni: string | undefined;
  apiServer: string | undefined;
  context: string;
  /** Every node's container runs and every node is Ready. */
  ready: boolean;
  /** Whether pods with hostUsers: false can run here, and why (not). */
  userNamespacedPods: { enabled: boolean; ready: boolean; reason: string } | undefined;
  nodes: NodeStatus[];
  /** Why parts of the status are unknown. */
  problems: string[];
}

function portText(port: PortMapping): string {
  return `${port.hostAddress}:${port.hostPort}->${port.containerPort}/${port.protocol}`;
}

/** Cluster names on this engine, from the node labels (the state is the labels). */
export function clusterNames(nodes: readonly NodeState[]): string[] {
  return [...new Set(nodes.map((node) => node.cluster))].sort();
}

/** One cluster's status: containers from the engine, readiness from its API server, the rest from its record. */
export async function clusterStatus(
  engine: Engine,
  name: string,
  localNodes: readonly NodeState[],
  members: readonly MemberView[] = [],
): Promise<ClusterStatus> {
  const nodes = [...localNodes, ...members.flatMap((view) => view.answer.nodes)];
  const problems: string[] = [];
  const controlPlane = nodes.find((node) => node.role === 'control-plane');
  let record: ClusterRecord | undefined;
  let readiness: Map<string, { ready: boolean; kubeletVersion: string | undefined }> | undefined;
  if (!controlPlane) problems.push('no control-plane node');
  else if (controlPlane.status !== 'running') problems.push(`the control plane ${controlPlane.name} is ${controlPlane.status}`);
  else {
    const parsed = ClusterRecord.safeParse(await readClusterRecord(engine, controlPlane.name));
    record = parsed.success ? parsed.data : undefined;
    if (!record) problems.push('the cluster was not set up completely (no record in its control plane): run rootlet up again');
    const answer = await kubectlGet({ shell: engine, transcript: new Transcript() }, controlPlane.name, ['nodes']);
    readiness = answer === undefined ? undefined : nodeReadiness(answer);
    if (!readiness) problems.push('the API server did not answer');
  }
  const statuses: NodeStatus[] = nodes.map((node) => ({
    name: node.name,
    role: node.role,
    host: node.hostId,
    container: node.status,
    ready: readiness ? (readiness.get(node.name)?.ready ?? false) : undefined,
    kubeletVersion: readiness?.get(node.name)?.kubeletVersion,
    ports: node.ports.map(portText),
  }));
  // A member host that did not answer, or whose node is gone, still shows: the cluster is not what it was.
  for (const { member, answer } of members) {
    if (answer.error) problems.push(`host ${member.host} did not answer: ${answer.error.message}`);
    if (answer.nodes.some((node) => node.name === member.node)) continue;
    statuses.push({
      name: member.node,
      role: 'worker',
      host: member.host,
      container: answer.error ? 'unknown' : 'missing',
      ready: readiness ? (readiness.get(member.node)?.ready ?? false) : undefined,
      kubeletVersion: readiness?.get(member.node)?.kubeletVersion,
      ports: [],
    });
    if (!answer.error) problems.push(`node ${member.node} is missing on ${member.host}: \`rootlet join --name ${name} ${member.host}\` creates it again`);
  }
  // A node the API server knows whose container is on no host rootlet knows of: removed behind rootlet's back.
  for (const [node, state] of readiness ?? []) {
    if (statuses.some((status) => status.name === node)) continue;
    const local = node.startsWith(`${name}-worker`) && /^\d*$/.test(node.slice(`${name}-worker`.length));
    statuses.push({
      name: node,
      role: 'worker',
      host: local ? 'local' : 'unknown',
      container: 'missing',
      ready: state.ready,
      kubeletVersion: state.kubeletVersion,
      ports: [],
    });
    problems.push(
      local
        ? `node ${node} is missing on this host (its container was removed): \`rootlet up --name ${name}\` with the same --workers creates it again`
        : `node ${node} is registered in the cluster but has no container on any host of it: \`kubectl delete node ${node}\` if it is not coming back`,
    );
  }
  return {
    name,
    engine: `${engine.info.kind} ${engine.info.version}`,
    kubernetesVersion: record?.kubernetesVersion,
    cni: record?.cni,
    apiServer: record ? apiServerUrl(record.apiServer.address, record.apiServer.port) : undefined,
    context: contextName(name),
    ready: statuses.length > 0 && statuses.every((node) => node.container === 'running' && node.ready === true),
    userNamespacedPods: record?.userNamespacedPods,
    nodes: statuses,
    problems,
  };
}

export async function allClusterStatuses(
  engine: Engine,
  only?: string,
  membersOf: (cluster: string) => Promise<MemberView[]> = async () => [],
): Promise<ClusterStatus[]> {
  const nodes = await engine.listNodes(only);
  return Promise.all(
    clusterNames(nodes).map(async (name) =>
      clusterStatus(
        engine,
        name,
        nodes.filter((node) => node.cluster === name),
        await membersOf(name),
      ),
    ),
  );
}
