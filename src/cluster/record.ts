import { z } from 'zod';
import type { ClusterOptions } from '../config/cluster-file.js';
import { KUBEADM_PATCH_KINDS, kubeadmPatchesFor } from '../kube/kubeadm-patches.js';
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
  /**
   * Set when nodes on other hosts may join: the control plane's host address, where its API server, kubelet and VXLAN
   * ports are published. Records of one-host clusters (and of rootlet versions before join) have none.
   */
  advertiseAddress: z.string().optional(),
  /** What `join` needs to render a JoinConfiguration like the ones `up` rendered. */
  join: z
    .object({
      kubeletPort: z.number(),
      vxlanPort: z.number(),
      nodeLabels: z.record(z.string(), z.string()),
      kubeletExtraArgs: z.array(z.object({ name: z.string(), value: z.string() })),
      /** The cluster file's kubeadmConfigPatches that apply to a JoinConfiguration. */
      patches: z.array(z.object({ kind: z.enum(KUBEADM_PATCH_KINDS), apiVersion: z.string().optional(), patch: z.record(z.string(), z.unknown()) })),
    })
    .optional(),
});
export type ClusterRecord = z.infer<typeof ClusterRecord>;

export function clusterRecord(
  cluster: ClusterOptions,
  context: { apiPort: number; facts: { kubernetesVersion: string }; userns: UserNamespacedPods; advertiseAddress: string | undefined },
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
    ...(context.advertiseAddress === undefined ? {} : { advertiseAddress: context.advertiseAddress }),
    join: {
      kubeletPort: cluster.networking.kubeletPort,
      vxlanPort: cluster.networking.vxlanPort,
      nodeLabels: cluster.nodes.labels,
      kubeletExtraArgs: cluster.kubernetes.extraArgs.kubelet ?? [],
      patches: kubeadmPatchesFor('join', cluster.kubernetes.kubeadmConfigPatches),
    },
  };
}
