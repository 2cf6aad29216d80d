import type { Engine } from '../engine/engine.js';
import { LABELS } from '../engine/types.js';
import type { Host } from '../host/host.js';
import { kubeconfigTarget, removeFromKubeconfigFile } from './kubeconfig-store.js';
import { networkName } from './names.js';
import { clusterNames } from './status.js';

export interface DownResult {
  cluster: string;
  nodes: string[];
  /** Volumes of the cluster left without their container. */
  volumes: string[];
  kubeconfig: string | undefined;
}

/**
 * Removes a cluster's nodes (with their /var volumes), its network and its kubeconfig entries. Idempotent: what is
 * already gone counts as removed, and a cluster that does not exist is removed already.
 */
export async function downCluster(host: Host, engine: Engine, name: string, env: Record<string, string | undefined>): Promise<DownResult> {
  const nodes = await engine.listNodes(name);
  await Promise.all(nodes.map((node) => engine.removeNode(node.name)));
  // A worker container removed by hand leaves its /var volume, which would block the next `up`.
  const volumes = await engine.removeOrphanVolumes(name);
  await engine.removeNetwork(networkName(name), { [LABELS.cluster]: name });
  const target = await kubeconfigTarget(host, env);
  const changed = await removeFromKubeconfigFile(host, target, name);
  return { cluster: name, nodes: nodes.map((node) => node.name), volumes, kubeconfig: changed ? target : undefined };
}

export async function downAll(host: Host, engine: Engine, env: Record<string, string | undefined>): Promise<DownResult[]> {
  const names = clusterNames(await engine.listNodes());
  const results: DownResult[] = [];
  for (const name of names) results.push(await downCluster(host, engine, name, env));
  return results;
}
