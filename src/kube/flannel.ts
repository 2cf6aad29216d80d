/**
 * The flannel manifest rootlet applies, rendered from typed objects: what flannel's Documentation/kube-flannel.yml holds
 * at the pinned tag (kube-facts 5, checked against the file at v0.28.9), with the cluster's pod subnet and the VXLAN
 * port and MTU rootlet may set in net-conf.json.
 */
import { Document, isMap, isScalar } from 'yaml';
import { ExitCode, RootletError } from '../errors.js';

import { FLANNEL_VERSION } from '../pins.js';

export { FLANNEL_VERSION };

/** The images the manifest names, so that `rootlet load` can put them into nodes that cannot pull. */
export const FLANNEL_IMAGES = {
  flannel: `ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}`,
  cniPlugin: 'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
} as const;

export const FLANNEL_NAMESPACE = 'kube-flannel';
export const FLANNEL_DAEMONSET = 'kube-flannel-ds';

export interface FlannelOptions {
  /** kubeadm's networking.podSubnet: flannel's Network must contain every node's podCIDR, which is cut from it. */
  podSubnet: string;
  /** The VXLAN UDP port; unset, flannel leaves it to the kernel (8472). */
  vxlanPort?: number;
  /**
   * The MTU of the packets flannel sends between nodes: flannel gives its vxlan device 50 less. Unset, flannel takes the
   * node interface's MTU (pkg/backend/vxlan at v0.28.9).
   */
  mtu?: number;
}

// The Kubernetes types below carry only the fields the manifest sets, under their JSON names.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface ClusterRole {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole';
  metadata: ObjectMeta;
  rules: PolicyRule[];
}

export interface ClusterRoleBinding {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRoleBinding';
  metadata: ObjectMeta;
  roleRef: { apiGroup: string; kind: 'ClusterRole' | 'Role'; name: string };
  subjects: { kind: 'ServiceAccount' | 'User' | 'Group'; name: string; namespace?: string }[];
}

export interface ServiceAccount {
  apiVersion: 'v1';
  kind: 'ServiceAccount';
  metadata: ObjectMeta;
}

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef: { fieldPath: string } };
}

export interface Probe {
  httpGet: { path: string; port: string | number };
  initialDelaySeconds?: number;
  periodSeconds?: number;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { privileged?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
}

export interface Volume {
  name: string;
  hostPath?: { path: string; type?: 'FileOrCreate' | 'DirectoryOrCreate' | 'File' | 'Directory' | 'Socket' };
  configMap?: { name: string };
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

export interface PodSpec {
  affinity?: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchExpressions: NodeSelectorRequirement[] }[] } } };
  hostNetwork?: boolean;
  priorityClassName?: string;
  tolerations?: Toleration[];
  serviceAccountName?: string;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
}

export interface DaemonSet {
  apiVersion: 'apps/v1';
  kind: 'DaemonSet';
  metadata: ObjectMeta;
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

/** The JSON of net-conf.json, keys as flannel's subnet.Config and vxlan backend read them (kube-facts 5). */
export interface FlannelNetConf {
  Network: string;
  EnableNFTables: boolean;
  Backend: { Type: 'vxlan'; Port?: number; MTU?: number };
}

function usage(code: string, message: string, hint: string): RootletError {
  return new RootletError(code, message, { exitCode: ExitCode.usage, hint });
}

/** An IPv4 CIDR as a 32-bit base address and prefix length; undefined for anything else, IPv6 included. */
export function ipv4Cidr(text: string): { base: number; prefix: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  return { base: octets.reduce((address, octet) => address * 256 + octet, 0), prefix };
}

/** Whether the IPv4 CIDR `outer` holds all of `inner` (both valid). */
export function ipv4CidrContains(outer: { base: number; prefix: number }, inner: { base: number; prefix: number }): boolean {
  const size = 2 ** (32 - outer.prefix);
  return inner.prefix >= outer.prefix && Math.floor(inner.base / size) === Math.floor(outer.base / size);
}

function formatIPv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

function checkPodSubnet(podSubnet: string): void {
  if (podSubnet.includes(':'))
    throw usage(
      'pod-subnet',
      `pod subnet "${podSubnet}" is IPv6 or dual-stack: rootlet's flannel manifest carries an IPv4 network only`,
      'use an IPv4 podSubnet such as 10.244.0.0/16, or give your own manifest with --cni-manifest FILE',
    );
  const cidr = ipv4Cidr(podSubnet);
  if (!cidr) throw usage('pod-subnet', `pod subnet "${podSubnet}" is not an IPv4 CIDR`, 'write it as address/prefix, like 10.244.0.0/16');
  const size = 2 ** (32 - cidr.prefix);
  if (cidr.base % size !== 0)
    throw usage(
      'pod-subnet',
      `pod subnet "${podSubnet}" has bits set past its /${cidr.prefix} prefix`,
      `did you mean ${formatIPv4(cidr.base - (cidr.base % size))}/${cidr.prefix}?`,
    );
}

function checkOptions(options: FlannelOptions): void {
  checkPodSubnet(options.podSubnet);
  const { vxlanPort, mtu } = options;
  if (vxlanPort !== undefined && !(Number.isInteger(vxlanPort) && vxlanPort >= 1 && vxlanPort <= 65535))
    throw usage('vxlan-port', `VXLAN port ${vxlanPort} is not a port number`, 'give a UDP port from 1 to 65535, or leave it out for the kernel default 8472');
  if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 576 && mtu <= 9000))
    throw usage('mtu', `MTU ${mtu} is out of range`, "give an MTU from 576 to 9000, or leave it out for the host interface's");
}

const LABEL = { 'k8s-app': 'flannel' };
const NODE_LABELS = { tier: 'node', app: 'flannel' };
const SERVICE_ACCOUNT = 'flannel';
const CONFIG_MAP = 'kube-flannel-cfg';
const HEALTHZ_PORT = 8081;
const CONFIG_DIR = '/etc/kube-flannel/';

/** The CNI configuration the install-cni init container copies to /etc/cni/net.d/10-flannel.conflist, as upstream has it. */
const CNI_CONF = {
  name: 'cbr0',
  cniVersion: '0.3.1',
  plugins: [
    { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

/** Indented as upstream's, so that `kubectl get cm -o yaml` reads like the file people know. */
function json(value: object): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function flannelNetConf(options: FlannelOptions): FlannelNetConf {
  return {
    Network: options.podSubnet,
    EnableNFTables: false,
    Backend: {
      Type: 'vxlan',
      ...(options.vxlanPort === undefined ? {} : { Port: options.vxlanPort }),
      ...(options.mtu === undefined ? {} : { MTU: options.mtu }),
    },
  };
}

function daemonSet(): DaemonSet {
  const flannelCfg: VolumeMount = { name: 'flannel-cfg', mountPath: CONFIG_DIR };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: FLANNEL_DAEMONSET, namespace: FLANNEL_NAMESPACE, labels: { ...NODE_LABELS, ...LABEL } },
    spec: {
      selector: { matchLabels: { app: NODE_LABELS.app } },
      template: {
        metadata: { labels: NODE_LABELS },
        spec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }],
              },
            },
          },
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
          serviceAccountName: SERVICE_ACCOUNT,
          initContainers: [
            {
              name: 'install-cni-plugin',
              image: FLANNEL_IMAGES.cniPlugin,
              command: ['cp'],
              args: ['-f', '/flannel', '/opt/cni/bin/flannel'],
              volumeMounts: [{ name: 'cni-plugin', mountPath: '/opt/cni/bin' }],
            },
            {
              name: 'install-cni',
              image: FLANNEL_IMAGES.flannel,
              command: ['/opt/bin/install-conf'],
              args: [`${CONFIG_DIR}cni-conf.json`, '/etc/cni/net.d/10-flannel.conflist'],
              volumeMounts: [{ name: 'cni', mountPath: '/etc/cni/net.d' }, flannelCfg],
            },
          ],
          containers: [
            {
              name: 'kube-flannel',
              image: FLANNEL_IMAGES.flannel,
              command: ['/opt/bin/flanneld'],
              args: ['--ip-masq', '--kube-subnet-mgr', `--healthz-port=${HEALTHZ_PORT}`],
              ports: [{ name: 'healthz', containerPort: HEALTHZ_PORT, protocol: 'TCP' }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, periodSeconds: 30 },
              readinessProbe: { httpGet: { path: '/readyz', port: 'healthz' }, initialDelaySeconds: 5, periodSeconds: 10 },
              resources: { requests: { cpu: '100m', memory: '50Mi' } },
              securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'EVENT_QUEUE_DEPTH', value: '5000' },
                { name: 'CONT_WHEN_CACHE_NOT_READY', value: 'false' },
              ],
              volumeMounts: [{ name: 'run', mountPath: '/run/flannel' }, flannelCfg, { name: 'xtables-lock', mountPath: '/run/xtables.lock' }],
            },
          ],
          volumes: [
            { name: 'run', hostPath: { path: '/run/flannel' } },
            { name: 'cni-plugin', hostPath: { path: '/opt/cni/bin' } },
            { name: 'cni', hostPath: { path: '/etc/cni/net.d' } },
            { name: 'flannel-cfg', configMap: { name: CONFIG_MAP } },
            { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
          ],
        },
      },
    },
  };
}

type Comment = [path: string[], text: string];

/** One YAML 1.1 document (kubectl reads with go-yaml: on/off/yes/no must stay quoted strings), no anchors. */
function yamlDocument(contents: object, comments: Comment[] = [], header?: string): Document {
  const document = new Document(contents, { version: '1.1', aliasDuplicateObjects: false });
  for (const [path, text] of comments) {
    const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
    const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && item.key.value === path.at(-1)) : undefined;
    if (!pair || !isScalar(pair.key)) throw new Error(`no ${path.join('.')} to comment on`);
    pair.key.commentBefore = ` ${text}`;
  }
  if (header !== undefined) document.commentBefore = header;
  return document;
}

/**
 * The manifest to `kubectl apply -f -`: Namespace, RBAC, ServiceAccount, ConfigMap and DaemonSet of flannel
 * FLANNEL_VERSION, in upstream's order.
 */
export function renderFlannelManifest(options: FlannelOptions): string {
  checkOptions(options);
  const namespace: Namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: FLANNEL_NAMESPACE, labels: { ...LABEL, 'pod-security.kubernetes.io/enforce': 'privileged' } },
  };
  const clusterRole: ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'flannel', labels: LABEL },
    rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
    ],
  };
  const clusterRoleBinding: ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'flannel', labels: LABEL },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flannel' },
    subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: FLANNEL_NAMESPACE }],
  };
  const serviceAccount: ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: SERVICE_ACCOUNT, namespace: FLANNEL_NAMESPACE, labels: LABEL },
  };
  const configMap: ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CONFIG_MAP, namespace: FLANNEL_NAMESPACE, labels: { tier: NODE_LABELS.tier, ...LABEL, app: NODE_LABELS.app } },
    data: { 'cni-conf.json': json(CNI_CONF), 'net-conf.json': json(flannelNetConf(options)) },
  };
  const header = ` flannel ${FLANNEL_VERSION}: the objects of its Documentation/kube-flannel.yml, rendered by rootlet.`;
  const netConfWhy = [
    "Network is the cluster's podSubnet: flannel refuses a node whose podCIDR it does not contain.",
    ...(options.vxlanPort === undefined ? [] : ["Port replaces the kernel's VXLAN port 8472."]),
    ...(options.mtu === undefined ? [] : ["MTU is the packets' between nodes: flannel gives its vxlan device 50 less."]),
  ].join(' ');
  const documents = [
    yamlDocument(namespace, [], header),
    yamlDocument(clusterRole),
    yamlDocument(clusterRoleBinding),
    yamlDocument(serviceAccount),
    yamlDocument(configMap, [[['data', 'net-conf.json'], netConfWhy]]),
    yamlDocument(daemonSet(), [
      [
        ['spec', 'template', 'spec', 'containers'],
        "Unprivileged, as upstream: NET_ADMIN and NET_RAW (vxlan device, iptables) are capabilities a rootless node's user namespace holds.",
      ],
    ]),
  ];
  return documents.map((document) => document.toString({ lineWidth: 0 })).join('---\n');
}
