import { ExitCode, RootletError } from '../errors.js';
import { kubernetesVersion, type KubeClusterSpec } from './cluster-spec.js';

/**
 * Ids per pod with `hostUsers: false`: the kubelet's default and minimum idsPerPod, the only size that fits the most
 * pods into a rootless node's few ids (larger sizes only widen the in-pod range beyond 0-65535). Also the block the
 * kubelet keeps for the node itself: pod ranges start at 65536 (kube-facts 2, "What the kubelet needs").
 */
export const IDS_PER_POD = 65536;

/** The kubelet's default maxPods, which rootlet does not change: its id range must hold one block per pod. */
export const KUBELET_MAX_PODS = 110;

/** UserNamespacesSupport: beta and on by default from 1.33, GA and locked on from 1.36 (kube-facts 2, "Feature gates"). */
const DEFAULT_ON_MINOR = 33;
const LOCKED_ON_MINOR = 36;
/** userNamespaces.idsPerPod exists in KubeletConfiguration from 1.33. */
const IDS_PER_POD_FIELD_MINOR = 33;

/** How many pods' id blocks fit in a node whose user namespace maps `nodeIdCount` ids (its first block is the node's own). */
export function podIdBlocks(nodeIdCount: number): number {
  return Math.max(0, Math.floor((nodeIdCount - IDS_PER_POD) / IDS_PER_POD));
}

export interface UserNamespacedPods {
  /** UserNamespacesSupport is on in this cluster. */
  enabled: boolean;
  /** What to set the UserNamespacesSupport gate to; undefined leaves the version's default. */
  featureGate: boolean | undefined;
  /** KubeletConfiguration `userNamespaces.idsPerPod`, where the version has the field and the feature is on. */
  idsPerPod: number | undefined;
  /**
   * The id range the node image should give a `kubelet` user in /etc/subuid and /etc/subgid (the kubelet reads it
   * with getsubids), inside what the node's user namespace holds; undefined when the node holds too few ids.
   */
  kubeletIdRange: { first: number; count: number } | undefined;
  /**
   * Whether pods with hostUsers:false can get their ids on these nodes; `reason` says why (not), for `rootlet status`.
   * Ids only: the kernel's idmap-mount support is doctor's `userns.pods` check.
   */
  ready: boolean;
  reason: string;
}

function requested(spec: KubeClusterSpec): boolean | undefined {
  const gate = spec.featureGates?.UserNamespacesSupport;
  if (spec.userNamespacedPods !== undefined && gate !== undefined && gate !== spec.userNamespacedPods)
    throw new RootletError('userns-conflict', `userNamespacedPods is ${spec.userNamespacedPods} but feature gate UserNamespacesSupport is ${gate}`, {
      exitCode: ExitCode.usage,
      hint: 'set only userNamespacedPods',
    });
  return spec.userNamespacedPods ?? gate;
}

/**
 * Whether and how the cluster runs pods with `hostUsers: false`. Inside a rootless node the kubelet's default range
 * (ids from 65536 on) lies outside the node's uid_map and sandbox creation fails (containerd #13074); the range the
 * kubelet may use is therefore sized from `nodeIdCount`. Needing room for all KUBELET_MAX_PODS blocks, rather than
 * lowering maxPods to fit, is rootlet's choice: the kubelet refuses to start when its range holds fewer blocks than maxPods,
 * and a small maxPods would limit every pod on the node, not only user-namespaced ones.
 */
export function userNamespacedPods(spec: KubeClusterSpec): UserNamespacedPods {
  const { minor } = kubernetesVersion(spec);
  const defaultOn = minor >= DEFAULT_ON_MINOR;
  const asked = requested(spec);
  if (asked === false && minor >= LOCKED_ON_MINOR)
    throw new RootletError(
      'userns-locked',
      `Kubernetes ${spec.kubernetesVersion} cannot turn user-namespaced pods off: UserNamespacesSupport is GA and locked on`,
      {
        exitCode: ExitCode.usage,
        hint: 'remove userNamespacedPods: false (pods still use the host user namespace unless they ask for hostUsers: false)',
      },
    );
  const enabled = asked ?? defaultOn;
  const featureGate = enabled === defaultOn ? undefined : enabled;
  const idsPerPod = enabled && minor >= IDS_PER_POD_FIELD_MINOR ? IDS_PER_POD : undefined;
  const notReady = (reason: string) => ({ enabled, featureGate, idsPerPod, kubeletIdRange: undefined, ready: false, reason });
  if (!enabled)
    return notReady(`UserNamespacesSupport is off${defaultOn ? '' : ` by default in Kubernetes ${spec.kubernetesVersion}`}: set userNamespacedPods: true`);
  if (spec.nodeIdCount === undefined) return notReady("the size of the nodes' user namespace is unknown");
  const blocks = podIdBlocks(spec.nodeIdCount);
  const needed = IDS_PER_POD * (KUBELET_MAX_PODS + 1);
  if (blocks < KUBELET_MAX_PODS) {
    return notReady(
      `the nodes' user namespace holds ${spec.nodeIdCount} ids; pods with hostUsers: false need ${needed} (${IDS_PER_POD} for the node and ${IDS_PER_POD} for each of ${KUBELET_MAX_PODS} pods): give the user a larger range in /etc/subuid and /etc/subgid`,
    );
  }
  return {
    enabled,
    featureGate,
    idsPerPod,
    kubeletIdRange: { first: IDS_PER_POD, count: blocks * IDS_PER_POD },
    ready: true,
    reason: `the nodes' user namespace holds ${spec.nodeIdCount} ids: ${blocks} pod ranges of ${IDS_PER_POD}`,
  };
}
