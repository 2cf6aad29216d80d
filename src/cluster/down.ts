import type { Engine } from '../engine/engine.js';
import { LABELS } from '../engine/types.js';
import { RootletError, UsageError, type ExitCode } from '../errors.js';
import type { Host } from '../host/host.js';
import { parseSshTarget, targetId } from '../host/ssh-target.js';
import { removeFromCluster } from '../kube/node-steps.js';
import { Transcript } from '../kube/transcript.js';
import { kubeconfigTarget, removeFromKubeconfigFile } from './kubeconfig-store.js';
import { memberHostError, withMemberEngine, type SshConnect } from './member-hosts.js';
import { clustersWithMembers, readMembers, updateMembers, type MemberHost } from './members.js';
import { controlPlaneName, networkName } from './names.js';
import { clusterNames } from './status.js';
import { withClusterLock } from './cluster-lock.js';
import { DEFAULT_WAIT_MS } from '../config/cluster-file.js';

/** What happened on one member host. */
export interface HostDownResult {
  host: string;
  nodes: string[];
  /** Why it could not be cleaned up; it stays in the member list, so `rootlet down` again retries it. */
  error?: ReturnType<RootletError['toJSON']> | undefined;
}

export interface DownResult {
  cluster: string;
  nodes: string[];
  /** Volumes of the cluster left without their container. */
  volumes: string[];
  kubeconfig: string | undefined;
  hosts: HostDownResult[];
}

export interface RemoteAccess {
  connect: SshConnect;
  signal: AbortSignal;
}

/** Removes a cluster's nodes, orphan volumes and network from one engine (this host's or a member's). */
async function removeFromEngine(engine: Engine, name: string): Promise<{ nodes: string[]; volumes: string[] }> {
  const nodes = await engine.listNodes(name);
  await Promise.all(nodes.map((node) => engine.removeNode(node.name)));
  // A worker container removed by hand leaves its /var volume, which would block the next `up`.
  const volumes = await engine.removeOrphanVolumes(name);
  await engine.removeNetwork(networkName(name), { [LABELS.cluster]: name });
  return { nodes: nodes.map((node) => node.name), volumes };
}

/**
 * On a member host, only what this cluster put there: nodes labelled with that host. The network and leftover
 * volumes go only when nothing of that cluster name is left there (the remote user may run a cluster of that name).
 */
async function removeFromMember(engine: Engine, name: string, member: MemberHost): Promise<string[]> {
  const all = await engine.listNodes(name);
  const ours = all.filter((node) => node.hostId === member.host);
  await Promise.all(ours.map((node) => engine.removeNode(node.name)));
  if (ours.length === all.length) {
    await engine.removeOrphanVolumes(name);
    await engine.removeNetwork(networkName(name), { [LABELS.cluster]: name });
  }
  return ours.map((node) => node.name);
}

async function downMember(member: MemberHost, name: string, remote: RemoteAccess): Promise<HostDownResult> {
  try {
    const nodes = await withMemberEngine(member, remote.connect, remote.signal, (engine) => removeFromMember(engine, name, member));
    return { host: member.host, nodes };
  } catch (error) {
    return { host: member.host, nodes: [], error: memberHostError(member, error).toJSON() };
  }
}

/** How long down waits for an up (or down) of the same cluster to finish: as long as up's default readiness wait. */
const DOWN_LOCK_TIMEOUT_MS = DEFAULT_WAIT_MS;

/**
 * Removes a cluster's nodes (with their /var volumes) on this host and on every member host, its networks and its
 * kubeconfig entries. Idempotent: what is already gone counts as removed, and a cluster that does not exist is removed
 * already. A member host that cannot be reached keeps its entry, so running down again retries it. Waits for an `up`
 * of the same cluster to finish first (the cluster's lock), so it never removes nodes an up is still building on.
 */
export async function downCluster(
  host: Host,
  engine: Engine,
  name: string,
  env: Record<string, string | undefined>,
  remote: RemoteAccess,
): Promise<DownResult> {
  return withClusterLock(host, env, name, () => downLocked(host, engine, name, env, remote), {
    command: 'down',
    timeoutMs: DOWN_LOCK_TIMEOUT_MS,
    signal: remote.signal,
  });
}

async function downLocked(host: Host, engine: Engine, name: string, env: Record<string, string | undefined>, remote: RemoteAccess): Promise<DownResult> {
  const members = await readMembers(host, env, name);
  const hosts = await Promise.all(members.map((member) => downMember(member, name, remote)));
  const done = new Set(hosts.filter((result) => !result.error).map((result) => result.host));
  if (done.size > 0) await updateMembers(host, env, name, (current) => current.filter((member) => !done.has(member.host)));
  const { nodes, volumes } = await removeFromEngine(engine, name);
  const target = await kubeconfigTarget(host, env);
  const changed = await removeFromKubeconfigFile(host, target, name);
  return { cluster: name, nodes, volumes, kubeconfig: changed ? target : undefined, hosts };
}

export async function downAll(host: Host, engine: Engine, env: Record<string, string | undefined>, remote: RemoteAccess): Promise<DownResult[]> {
  // Clusters with nodes here, and those whose control plane is gone but whose other hosts are still listed.
  const names = [...new Set([...clusterNames(await engine.listNodes()), ...(await clustersWithMembers(host, env))])].sort();
  const results: DownResult[] = [];
  for (const name of names) results.push(await downCluster(host, engine, name, env, remote));
  return results;
}

/** The member named by a HOST argument (as joined: user@host[:port]; `resolved` through the ssh config) or by its node's name. */
function findMember(members: readonly MemberHost[], resolved: string, text: string, cluster: string): MemberHost {
  const byNode = members.find((member) => member.node === text || member.host === resolved);
  if (byNode) return byNode;
  let id: string | undefined;
  try {
    id = targetId(parseSshTarget(text));
  } catch {
    id = undefined;
  }
  const found = members.find((member) => member.host === id || member.host.replace(/^[^@]*@/, '') === text);
  if (!found)
    throw new UsageError(
      `${text} is not a host of cluster ${cluster}`,
      members.length === 0 ? 'the cluster has no other hosts' : `its hosts: ${members.map((member) => `${member.host} (${member.node})`).join(', ')}`,
    );
  return found;
}

/**
 * `down --host H`: takes H's node out of the cluster (drained, deleted) on the control plane, then removes its
 * container, volume and network on H, and forgets H. The rest of the cluster stays.
 */
export async function downHost(
  host: Host,
  engine: Engine,
  name: string,
  env: Record<string, string | undefined>,
  resolved: string,
  remote: RemoteAccess,
  text = resolved,
): Promise<HostDownResult & { node: string; drained: boolean }> {
  const member = findMember(await readMembers(host, env, name), resolved, text, name);
  const controlPlane = (await engine.listNodes(name)).find((node) => node.name === controlPlaneName(name));
  let drained = false;
  if (controlPlane?.status === 'running') {
    await removeFromCluster({ shell: engine, transcript: new Transcript(), signal: remote.signal }, controlPlane.name, member.node);
    drained = true;
  }
  const result = await downMember(member, name, remote);
  if (result.error)
    throw new RootletError('down-host', `${member.host}: ${result.error.message}`, {
      exitCode: result.error.exitCode as ExitCode,
      hint: `${drained ? `node ${member.node} is out of the cluster; ` : ''}its container stays until \`rootlet down --name ${name} --host ${member.host}\` reaches the host`,
    });
  await updateMembers(host, env, name, (current) => current.filter((other) => other.host !== member.host));
  return { ...result, node: member.node, drained };
}
