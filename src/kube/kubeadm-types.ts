/**
 * The parts of kubeadm's v1beta4 configuration API, KubeletConfiguration v1beta1 and KubeProxyConfiguration v1alpha1
 * that rootlet renders, under their JSON names (../shared/research/kube-facts.md sections 1-3). Every field here is one
 * the real types have; kubeadm rejects unknown fields.
 */
import type { KubeArg } from './cluster-spec.js';

export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
export const KUBELET_API_VERSION = 'kubelet.config.k8s.io/v1beta1';
export const KUBE_PROXY_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';

export interface BootstrapToken {
  token: string;
  description?: string;
  /** A Go duration, like "30m". */
  ttl?: string;
  usages?: string[];
  groups?: string[];
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeRegistrationOptions {
  name: string;
  criSocket: string;
  /** Written to /var/lib/kubelet/kubeadm-flags.env: per node, over the cluster-wide kubelet-config. */
  kubeletExtraArgs?: KubeArg[];
  /** Omitted: the default control-plane taint on control-plane nodes. `[]`: no taint. */
  taints?: Taint[];
}

export interface APIEndpoint {
  advertiseAddress?: string;
  bindPort: number;
}

export interface InitConfiguration {
  apiVersion: typeof KUBEADM_API_VERSION;
  kind: 'InitConfiguration';
  bootstrapTokens: BootstrapToken[];
  localAPIEndpoint: APIEndpoint;
  nodeRegistration: NodeRegistrationOptions;
  skipPhases?: string[];
}

export interface ControlPlaneComponent {
  extraArgs?: KubeArg[];
}

export interface ClusterConfiguration {
  apiVersion: typeof KUBEADM_API_VERSION;
  kind: 'ClusterConfiguration';
  clusterName: string;
  kubernetesVersion: string;
  controlPlaneEndpoint: string;
  networking: { podSubnet: string; serviceSubnet: string };
  apiServer: ControlPlaneComponent & { certSANs: string[] };
  controllerManager: ControlPlaneComponent;
  scheduler: ControlPlaneComponent;
}

export interface BootstrapTokenDiscovery {
  apiServerEndpoint: string;
  token: string;
  caCertHashes: string[];
}

export interface JoinConfiguration {
  apiVersion: typeof KUBEADM_API_VERSION;
  kind: 'JoinConfiguration';
  nodeRegistration: NodeRegistrationOptions;
  discovery: { bootstrapToken: BootstrapTokenDiscovery };
  skipPhases?: string[];
  /** v1beta4: Go durations, like "2m0s". */
  timeouts?: { discovery?: string };
}

export interface KubeletConfiguration {
  apiVersion: typeof KUBELET_API_VERSION;
  kind: 'KubeletConfiguration';
  cgroupDriver: 'systemd' | 'cgroupfs';
  cgroupRoot: string;
  failSwapOn: boolean;
  port: number;
  imageGCHighThresholdPercent: number;
  evictionHard: Record<string, string>;
  featureGates: Record<string, boolean>;
  /** Kubernetes >= 1.33. */
  userNamespaces?: { idsPerPod: number };
}

export interface KubeProxyConfiguration {
  apiVersion: typeof KUBE_PROXY_API_VERSION;
  kind: 'KubeProxyConfiguration';
  mode: 'iptables' | 'nftables' | 'ipvs';
  featureGates: Record<string, boolean>;
  iptables: { minSyncPeriod: string };
  conntrack: { maxPerCore: number; tcpEstablishedTimeout: string; tcpCloseWaitTimeout: string };
}
