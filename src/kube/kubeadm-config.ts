/**
 * The kubeadm configuration files rootlet puts into its nodes, rendered from typed objects. They follow what kind and
 * Usernetes run rootless (../shared/research/kind.md 2.4 and 3, usernetes.md 3), with the fields and versions of
 * kube-facts.md 1-3, which wins where the sources disagree.
 */
import { Document, isMap, isScalar } from 'yaml';
import { ExitCode, RootletError } from '../errors.js';
import { BOOTSTRAP_TOKEN_PATTERN, CA_CERT_HASH_PATTERN } from './bootstrap-token.js';
import {
  apiServerPort,
  controlPlaneEndpoint,
  DEFAULT_KUBELET_PORT,
  DEFAULT_POD_SUBNET,
  DEFAULT_SERVICE_SUBNET,
  kubernetesVersion,
  REMOTE_NODE_TAINT,
  type KubeArg,
  type KubeClusterSpec,
  type KubeComponent,
  type KubeNode,
} from './cluster-spec.js';
import {
  KUBE_PROXY_API_VERSION,
  KUBEADM_API_VERSION,
  KUBELET_API_VERSION,
  type ClusterConfiguration,
  type InitConfiguration,
  type JoinConfiguration,
  type KubeletConfiguration,
  type KubeProxyConfiguration,
  type NodeRegistrationOptions,
} from './kubeadm-types.js';
import { userNamespacedPods } from './user-namespaces.js';

/** containerd in kindest/node, where kind points kubeadm. */
export const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';

/**
 * How long the init token lives: long enough for `up` to install the CNI and join the local workers, short enough not to
 * matter if it leaks (kind's is fixed and public, Usernetes' lives kubeadm's default 24h). Later joins create their own
 * token with `kubeadm token create --ttl`. The length is rootlet's choice.
 */
export const BOOTSTRAP_TOKEN_TTL = '30m';

/**
 * How long a join keeps retrying discovery. kubeadm retries every 5 s for 5 minutes when the API server cannot be
 * reached or the token id is unknown (an expired token looks like that); 2 minutes is plenty for an API server that
 * `up` has just seen healthy, and a bad token fails in minutes, not five.
 */
export const JOIN_DISCOVERY_TIMEOUT = '2m0s';

export interface InitSecrets {
  /** From newBootstrapToken(); never logged. */
  bootstrapToken: string;
}

export interface JoinSecrets {
  /** A live bootstrap token of the cluster; never logged. */
  bootstrapToken: string;
  /** caCertHash() of the cluster's ca.crt: the worker trusts only an API server holding that CA's key. */
  caCertHash: string;
}

// The issue says Usernetes skips preflight too; research/usernetes.md shows its `kubeadm init --config ... --skip-token-print`
// with no skip, so kind's `skipPhases: [preflight]` is the one source. Which checks fail in a node is rootlet's reading.
const SKIP_PREFLIGHT_WHY = [
  'kubeadm preflight is skipped, as kind does: its checks (kernel config and modules, swap, sysctls) look at the',
  'host through a rootless container and fail on what does not matter there. rootlet doctor checks the host itself.',
].join('\n');

function usage(code: string, message: string, hint: string): RootletError {
  return new RootletError(code, message, { exitCode: ExitCode.usage, hint });
}

/**
 * Component feature gates as kind sets them for a rootless provider: KubeletInUserNamespace on every component (the
 * kubelet ignores the sysctls and /dev/kmsg a user namespace cannot touch; kube-proxy its RLIMIT_NOFILE), plus the spec's,
 * plus UserNamespacesSupport where the spec's switch differs from the version's default. Sorted, as kind sorts them.
 */
function featureGates(spec: KubeClusterSpec): Record<string, boolean> {
  if (spec.featureGates?.KubeletInUserNamespace === false)
    throw usage(
      'feature-gate',
      'feature gate KubeletInUserNamespace cannot be off: every rootlet node runs in a user namespace',
      'remove it from featureGates',
    );
  const { featureGate } = userNamespacedPods(spec);
  const gates: Record<string, boolean> = {
    ...spec.featureGates,
    KubeletInUserNamespace: true,
    ...(featureGate === undefined ? {} : { UserNamespacesSupport: featureGate }),
  };
  return Object.fromEntries(Object.entries(gates).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function featureGatesFlag(gates: Record<string, boolean>): string {
  return Object.entries(gates)
    .map(([name, on]) => `${name}=${on}`)
    .join(',');
}

/** Flags rootlet sets itself; the spec's extra args must not repeat them. */
const OWN_FLAGS: Record<KubeComponent, string[]> = {
  apiServer: ['feature-gates', 'advertise-address'],
  controllerManager: ['feature-gates'],
  scheduler: ['feature-gates'],
  kubelet: ['feature-gates', 'node-labels', 'cloud-provider'],
};

/**
 * With nodes on other hosts, the API server reaches a kubelet at the node's ExternalIP (its host's address, set by
 * rootlet), else at its InternalIP (nodes on the control plane's host). Usernetes sets ExternalIP alone.
 */
const MULTI_HOST_ADDRESS_TYPES = 'ExternalIP,InternalIP,Hostname';

function extraArgs(spec: KubeClusterSpec, component: KubeComponent): KubeArg[] {
  const args = spec.extraArgs?.[component] ?? [];
  for (const arg of args) {
    if (arg.name.startsWith('-'))
      throw usage(
        'extra-args',
        `${component} extra arg "${arg.name}" starts with a dash`,
        `write the flag name without dashes: "${arg.name.replace(/^-+/, '')}"`,
      );
    if (OWN_FLAGS[component].includes(arg.name))
      throw usage(
        'extra-args',
        `${component} extra arg "${arg.name}" is set by rootlet`,
        arg.name === 'feature-gates'
          ? 'put feature gates in featureGates'
          : arg.name === 'node-labels'
            ? "put labels in the node's labels"
            : arg.name === 'cloud-provider'
              ? 'remove it: rootlet sets cloud-provider external on nodes of other hosts and their addresses itself'
              : 'set networking.advertiseAddress',
      );
  }
  return args;
}

const LABEL_KEY = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** The kubelet's `--node-labels` value, `k=v,...` sorted by key as kind writes it; a bad label would corrupt the list. */
function nodeLabelsFlag(node: KubeNode): string | undefined {
  const labels = Object.entries(node.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of labels)
    if (!LABEL_KEY.test(key) || !LABEL_VALUE.test(value) || key.length > 316 || value.length > 63)
      throw usage(
        'node-label',
        `node ${node.name}: "${key}=${value}" is not a valid Kubernetes label`,
        'use a key like example.com/name and a value of letters, digits, "-", "_" and "."',
      );
  return labels.length === 0 ? undefined : labels.map(([key, value]) => `${key}=${value}`).join(',');
}

function nodeRegistration(spec: KubeClusterSpec, node: KubeNode): NodeRegistrationOptions {
  const labels = nodeLabelsFlag(node);
  const remote = node.hostAddress !== undefined;
  const kubeletArgs = [
    ...(labels === undefined ? [] : [{ name: 'node-labels', value: labels }]),
    ...(remote ? [{ name: 'cloud-provider', value: 'external' }] : []),
    ...extraArgs(spec, 'kubelet'),
  ];
  return {
    name: node.name,
    criSocket: CRI_SOCKET,
    ...(kubeletArgs.length === 0 ? {} : { kubeletExtraArgs: kubeletArgs }),
    ...(remote ? { taints: [{ ...REMOTE_NODE_TAINT }] } : {}),
  };
}

/** `host` of `host:port`, `[v6]:port` or a bare host. */
function endpointHost(endpoint: string): string {
  if (endpoint.startsWith('[')) return endpoint.slice(1, endpoint.indexOf(']'));
  const parts = endpoint.split(':');
  return parts.length === 2 ? parts[0]! : endpoint;
}

/** `host:port` for discovery, which needs the port that controlPlaneEndpoint may leave out. */
function endpointWithPort(endpoint: string, port: number): string {
  if (endpoint.startsWith('[')) return endpoint.includes(']:') ? endpoint : `${endpoint}:${port}`;
  const colons = endpoint.split(':').length - 1;
  if (colons === 1) return endpoint;
  return colons === 0 ? `${endpoint}:${port}` : `[${endpoint}]:${port}`;
}

function certSANs(spec: KubeClusterSpec, node: KubeNode): string[] {
  const advertise = spec.apiServer?.advertiseAddress;
  return [
    ...new Set([
      'localhost',
      '127.0.0.1',
      node.name,
      endpointHost(controlPlaneEndpoint(spec)),
      ...(advertise === undefined ? [] : [advertise]),
      ...(spec.hostAddresses ?? []),
    ]),
  ];
}

function checkToken(token: string): void {
  // The message never carries the value: it is a secret.
  if (!BOOTSTRAP_TOKEN_PATTERN.test(token))
    throw new RootletError('bootstrap-token', 'the bootstrap token is not of the form [a-z0-9]{6}.[a-z0-9]{16}', { hint: 'make it with newBootstrapToken()' });
}

function checkRole(node: KubeNode, role: KubeNode['role'], what: string): void {
  if (node.role !== role)
    throw usage('node-role', `node ${node.name} is a ${node.role}: ${what}`, role === 'worker' ? 'join it as a worker' : 'run init on the control-plane node');
}

function initConfiguration(spec: KubeClusterSpec, node: KubeNode, secrets: InitSecrets): InitConfiguration {
  const hasWorkers = spec.nodes.some((other) => other.role === 'worker');
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'InitConfiguration',
    bootstrapTokens: [
      {
        token: secrets.bootstrapToken,
        description: `rootlet: joins the nodes of cluster ${spec.name}`,
        ttl: BOOTSTRAP_TOKEN_TTL,
        usages: ['signing', 'authentication'],
        groups: ['system:bootstrappers:kubeadm:default-node-token'],
      },
    ],
    // No advertiseAddress: kubeadm takes the node's own address, where etcd can listen too. A host address is passed to
    // the API server alone, as Usernetes does (see clusterConfiguration).
    localAPIEndpoint: { bindPort: apiServerPort(spec) },
    nodeRegistration: { ...nodeRegistration(spec, node), ...(hasWorkers ? {} : { taints: [] }) },
    skipPhases: ['preflight'],
  };
}

function clusterConfiguration(spec: KubeClusterSpec, node: KubeNode, gates: Record<string, boolean>): ClusterConfiguration {
  const gatesArg = { name: 'feature-gates', value: featureGatesFlag(gates) };
  const advertise = spec.apiServer?.advertiseAddress;
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'ClusterConfiguration',
    clusterName: spec.name,
    kubernetesVersion: spec.kubernetesVersion,
    controlPlaneEndpoint: controlPlaneEndpoint(spec),
    networking: { podSubnet: spec.podSubnet ?? DEFAULT_POD_SUBNET, serviceSubnet: spec.serviceSubnet ?? DEFAULT_SERVICE_SUBNET },
    apiServer: {
      certSANs: certSANs(spec, node),
      extraArgs: [
        ...(advertise === undefined ? [] : [{ name: 'advertise-address', value: advertise }]),
        ...(advertise === undefined || extraArgs(spec, 'apiServer').some((arg) => arg.name === 'kubelet-preferred-address-types')
          ? []
          : [{ name: 'kubelet-preferred-address-types', value: MULTI_HOST_ADDRESS_TYPES }]),
        gatesArg,
        ...extraArgs(spec, 'apiServer'),
      ],
    },
    controllerManager: { extraArgs: [gatesArg, ...extraArgs(spec, 'controllerManager')] },
    scheduler: { extraArgs: [gatesArg, ...extraArgs(spec, 'scheduler')] },
  };
}

/** kind's rootless kubelet settings; Usernetes sets only failSwapOn, port and the gate, the issue asks for kind's disk settings too. */
function kubeletConfiguration(spec: KubeClusterSpec, gates: Record<string, boolean>): KubeletConfiguration {
  const { idsPerPod } = userNamespacedPods(spec);
  return {
    apiVersion: KUBELET_API_VERSION,
    kind: 'KubeletConfiguration',
    // systemd runs inside the node with its own cgroup namespace (kind, and kubeadm's default that Usernetes keeps).
    cgroupDriver: 'systemd',
    cgroupRoot: '/kubelet',
    failSwapOn: false,
    port: spec.kubeletPort ?? DEFAULT_KUBELET_PORT,
    imageGCHighThresholdPercent: 100,
    evictionHard: { 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
    featureGates: gates,
    ...(idsPerPod === undefined ? {} : { userNamespaces: { idsPerPod } }),
  };
}

function kubeProxyConfiguration(gates: Record<string, boolean>): KubeProxyConfiguration {
  return {
    apiVersion: KUBE_PROXY_API_VERSION,
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    featureGates: gates,
    iptables: { minSyncPeriod: '1s' },
    conntrack: { maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  };
}

type Comment = [path: string[], text: string];

/**
 * One YAML document with comments before the named keys. YAML 1.1 rules: kubeadm reads YAML through sigs.k8s.io/yaml,
 * whose go-yaml takes on/off/yes/no for booleans, so strings like those must be quoted. No anchors: readers are people.
 */
function yamlDocument(contents: object, comments: Comment[] = []): Document {
  const document = new Document(contents, { version: '1.1', aliasDuplicateObjects: false });
  for (const [path, text] of comments) {
    const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
    const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && item.key.value === path.at(-1)) : undefined;
    if (!pair || !isScalar(pair.key)) throw new Error(`no ${path.join('.')} to comment on`);
    pair.key.commentBefore = text
      .split('\n')
      .map((line) => ` ${line}`)
      .join('\n');
  }
  return document;
}

function yamlStream(documents: Document[]): string {
  return documents.map((document) => document.toString({ lineWidth: 0 })).join('---\n');
}

const KUBELET_COMMENTS: Comment[] = [
  [['cgroupRoot'], "Nested in a container: the kubelet must not manage the cgroups above the node's (kind)."],
  [['imageGCHighThresholdPercent'], "The kubelet sees the host's disk behind the node: no image GC or disk eviction for it (kind)."],
  [['featureGates'], 'KubeletInUserNamespace: ignore the sysctls and /dev/kmsg a user namespace cannot touch.'],
];

const KUBE_PROXY_COMMENTS: Comment[] = [
  [['conntrack'], 'A user namespace cannot write the nf_conntrack sysctls: 0 leaves them alone (else kube-proxy crash-loops).'],
];

/**
 * `kubeadm init --config` for the cluster's first control-plane node: InitConfiguration, ClusterConfiguration, and the
 * KubeletConfiguration and KubeProxyConfiguration that kubeadm uploads for every node of the cluster.
 */
export function renderInitConfig(spec: KubeClusterSpec, node: KubeNode, secrets: InitSecrets): string {
  kubernetesVersion(spec);
  checkRole(node, 'control-plane', 'kubeadm init runs on a control-plane node');
  checkToken(secrets.bootstrapToken);
  const gates = featureGates(spec);
  const init = initConfiguration(spec, node, secrets);
  const initComments: Comment[] = [
    [['bootstrapTokens'], 'Generated for this cluster, short-lived: local workers join with it during `rootlet up`.'],
    [['skipPhases'], SKIP_PREFLIGHT_WHY],
    ...(init.nodeRegistration.taints === undefined
      ? []
      : [[['nodeRegistration', 'taints'], 'No workers: pods run on the control plane (kind removes the taint after init).'] as Comment]),
  ];
  return yamlStream([
    yamlDocument(init, initComments),
    yamlDocument(clusterConfiguration(spec, node, gates)),
    yamlDocument(kubeletConfiguration(spec, gates), KUBELET_COMMENTS),
    yamlDocument(kubeProxyConfiguration(gates), KUBE_PROXY_COMMENTS),
  ]);
}

/**
 * `kubeadm join --config` for a worker: the JoinConfiguration alone. A join takes its kubelet settings from the cluster's
 * kubelet-config ConfigMap, which kubeadm fills from the init node's KubeletConfiguration only (kube-facts 1.6; kind #3849;
 * Usernetes: "the kubelet port is cluster-wide"), so per-node settings go in nodeRegistration's kubeletExtraArgs.
 */
export function renderJoinConfig(spec: KubeClusterSpec, node: KubeNode, join: JoinSecrets): string {
  kubernetesVersion(spec);
  checkRole(node, 'worker', 'rootlet joins workers only: a second control plane needs the kubeadm certificate key, which rootlet does not hand out');
  checkToken(join.bootstrapToken);
  if (!CA_CERT_HASH_PATTERN.test(join.caCertHash))
    throw new RootletError('ca-cert-hash', 'the CA certificate hash is not of the form sha256:<64 lowercase hex digits>', {
      hint: 'compute it with caCertHash(ca.crt)',
    });
  const config: JoinConfiguration = {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'JoinConfiguration',
    nodeRegistration: nodeRegistration(spec, node),
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: endpointWithPort(controlPlaneEndpoint(spec), apiServerPort(spec)),
        token: join.bootstrapToken,
        caCertHashes: [join.caCertHash],
      },
    },
    skipPhases: ['preflight'],
    timeouts: { discovery: JOIN_DISCOVERY_TIMEOUT },
  };
  return yamlStream([
    yamlDocument(config, [
      ...(node.hostAddress === undefined
        ? []
        : [
            [
              ['nodeRegistration', 'taints'],
              `On another host (${node.hostAddress}): no CNI pod until rootlet has set the node's ExternalIP and flannel's public IP.`,
            ] as Comment,
          ]),
      [['discovery', 'bootstrapToken', 'caCertHashes'], 'Pinned to the cluster CA: kind sets unsafeSkipCAVerification instead.'],
      [['skipPhases'], SKIP_PREFLIGHT_WHY],
    ]),
  ]);
}
