import { ExitCode, RootletError } from '../errors.js';

/** kind's and Usernetes' pod network (flannel's default too). */
export const DEFAULT_POD_SUBNET = '10.244.0.0/16';
/** kind's and Usernetes' service network: a /16, not kubeadm's /12. */
export const DEFAULT_SERVICE_SUBNET = '10.96.0.0/16';
export const DEFAULT_API_SERVER_PORT = 6443;
export const DEFAULT_KUBELET_PORT = 10250;

/**
 * The oldest Kubernetes minor rootlet renders for: the first with kubeadm's v1beta4 API (kube-facts 1.1, from the k/k
 * changelog). kind renders v1beta3 up to 1.35 and v1beta4 from 1.36 only; kube-facts wins, so 1.31-1.35 get v1beta4 too.
 * Nothing rootlet renders needs v1beta3, which 1.37 removed.
 */
export const MIN_KUBERNETES_MINOR = 31;

export type KubeNodeRole = 'control-plane' | 'worker';

export interface KubeNode {
  /** The Kubernetes node name, which is also the container's hostname. */
  name: string;
  role: KubeNodeRole;
  /** Set by the kubelet at registration (`--node-labels`); kubernetes.io-prefixed keys are mostly refused by the kubelet. */
  labels?: Record<string, string>;
  /**
   * For a node on another host than the control plane's: that host's address, where its kubelet and VXLAN ports are
   * published. The node registers tainted (REMOTE_NODE_TAINT) with the kubelet's --cloud-provider=external, so nothing
   * but rootlet sets its addresses, and no CNI pod starts there before rootlet has set them (Usernetes' sync-external-ip).
   */
  hostAddress?: string;
}

/**
 * Held by a node on another host from registration until rootlet has set its ExternalIP and flannel's public IP.
 * NoExecute: flannel's DaemonSet tolerates every NoSchedule taint (the cloud provider's uninitialized one too), not this.
 */
export const REMOTE_NODE_TAINT = { key: 'rootlet.dev/unconfigured', effect: 'NoExecute' } as const;
/** Set by the kubelet itself under --cloud-provider=external; no cloud controller will clear it, rootlet does. */
export const UNINITIALIZED_TAINT = { key: 'node.cloudprovider.kubernetes.io/uninitialized', effect: 'NoSchedule' } as const;

/** A component flag as kubeadm v1beta4 lists them: the name without leading dashes, `{name: v, value: "2"}` for `--v=2`. */
export interface KubeArg {
  name: string;
  value: string;
}

export type KubeComponent = 'apiServer' | 'controllerManager' | 'scheduler' | 'kubelet';

/** What the kubeadm renderers need to know about a cluster; the cluster layer builds it from the validated cluster file. */
export interface KubeClusterSpec {
  /** rootlet's cluster name; also kubeadm's clusterName. */
  name: string;
  /** The node image's Kubernetes version, like "v1.37.0". */
  kubernetesVersion: string;
  /** Default DEFAULT_POD_SUBNET. */
  podSubnet?: string;
  /** Default DEFAULT_SERVICE_SUBNET. */
  serviceSubnet?: string;
  apiServer?: {
    /**
     * The API server's port, published on the host at the same number and bound to it inside the node, as Usernetes
     * does: the `kubernetes` Service points pods at advertiseAddress:bindPort, which must work from other hosts too.
     * Default DEFAULT_API_SERVER_PORT.
     */
    hostPort?: number;
    /**
     * The host address the API server advertises (Usernetes' HOST_IP) when nodes on other hosts must reach it.
     * Unset: kubeadm uses the control-plane node's own address on the engine network, which is all a one-host cluster needs.
     */
    advertiseAddress?: string;
  };
  /** `host:port` every node reaches the API server at. Default `<control-plane node name>:<hostPort>`, as kind and Usernetes. */
  controlPlaneEndpoint?: string;
  nodes: KubeNode[];
  /** Every address of the hosts the API server will be reached at (kubeconfig, other hosts): each goes into certSANs. */
  hostAddresses?: string[];
  /** Kubernetes component feature gates, set on the API server, controller manager, scheduler, kubelet and kube-proxy alike. */
  featureGates?: Record<string, boolean>;
  /** Extra flags per component, appended after rootlet's own. */
  extraArgs?: Partial<Record<KubeComponent, KubeArg[]>>;
  /** The kubelet's port; cluster-wide, since joining kubelets read the cluster's kubelet-config. Default DEFAULT_KUBELET_PORT. */
  kubeletPort?: number;
  /** Pods with `hostUsers: false`. Default: on where the Kubernetes version has UserNamespacesSupport on by default (>= 1.33). */
  userNamespacedPods?: boolean;
  /** How many ids the nodes' user namespaces hold (the smallest across nodes, from their uid_map); sizes the kubelet's pod id range. */
  nodeIdCount?: number;
}

export interface KubernetesVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Parses "v1.37.0" (or "v1.37.0-rc.1"); anything rootlet cannot render kubeadm v1beta4 for is a usage error. */
export function kubernetesVersion(spec: Pick<KubeClusterSpec, 'kubernetesVersion'>): KubernetesVersion {
  const match = /^v(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]+)?$/.exec(spec.kubernetesVersion);
  if (!match)
    throw new RootletError('kubernetes-version', `"${spec.kubernetesVersion}" is not a Kubernetes version`, {
      exitCode: ExitCode.usage,
      hint: 'give a release version such as v1.37.0',
    });
  const [major, minor, patch] = match.slice(1).map(Number) as [number, number, number];
  if (major !== 1 || minor < MIN_KUBERNETES_MINOR)
    throw new RootletError('kubernetes-version', `Kubernetes ${spec.kubernetesVersion} is not supported: rootlet needs v1.${MIN_KUBERNETES_MINOR} or newer`, {
      exitCode: ExitCode.usage,
      hint: `use a node image with Kubernetes v1.${MIN_KUBERNETES_MINOR}.0 or newer (kubeadm's v1beta4 configuration API)`,
    });
  return { major, minor, patch };
}

export function apiServerPort(spec: KubeClusterSpec): number {
  return spec.apiServer?.hostPort ?? DEFAULT_API_SERVER_PORT;
}

export function controlPlaneEndpoint(spec: KubeClusterSpec): string {
  if (spec.controlPlaneEndpoint !== undefined) return spec.controlPlaneEndpoint;
  const controlPlane = spec.nodes.find((node) => node.role === 'control-plane');
  if (!controlPlane)
    throw new RootletError('no-control-plane', `cluster ${spec.name} has no control-plane node`, {
      exitCode: ExitCode.usage,
      hint: 'add a node with role control-plane',
    });
  return `${controlPlane.name}:${apiServerPort(spec)}`;
}
