import { z } from 'zod';
import type { ClusterOptions } from '../config/cluster-file.js';
import type { UserNamespacedPods } from '../kube/user-namespaces.js';

declare const ROOTLET_VERSION: string;

/**
 * What rootlet remembers about a cluster beyond its container labels, kept in the control-plane node (no secrets):
 * `status` reads it, and a re-run of `up` compares against it.
 */
export const ClusterRecord = z.object({
  name: z.string(),
  rootletVersion: z.string(),
  kubernetesVersion: z.string(),
  cni: z.enum(['flannel', 'antrea', 'none']),
  apiServer: z.object({ address: z.string(), port: z.number() }),
  podSubnet: z.string(),
  serviceSubnet: z.string(),
  userNamespacedPods: z.object({ enabled: z.boolean(), ready: z.boolean(), reason: z.string() }),
  createdAt: z.string(),
});
export type ClusterRecord = z.infer<typeof ClusterRecord>;

export function clusterRecord(
  cluster: ClusterOptions,
  context: { apiPort: number; facts: { kubernetesVersion: string }; userns: UserNamespacedPods },
): ClusterRecord {
  return {
    name: cluster.name,
    rootletVersion: typeof ROOTLET_VERSION === 'string' ? ROOTLET_VERSION : '0.0.0-dev',
    kubernetesVersion: context.facts.kubernetesVersion,
    cni: cluster.cni.name,
    apiServer: { address: cluster.networking.apiServerAddress, port: context.apiPort },
    podSubnet: cluster.networking.podSubnet,
    serviceSubnet: cluster.networking.serviceSubnet,
    userNamespacedPods: { enabled: context.userns.enabled, ready: context.userns.ready, reason: context.userns.reason },
    createdAt: new Date().toISOString(),
  };
}
