/**
 * The cluster file (`rootlet up -f FILE`). One zod schema is the source of the types (z.infer), the defaults, the
 * committed JSON Schema (schema/cluster.schema.json) and every check; load-cluster-file.ts turns its issues into
 * `file:line:col` errors. Everything is strict: a misspelt field is an error, never silently ignored.
 *
 * Adding a field (such as the remote `hosts:` list) is additive: a new optional key here, checked in its own refinement.
 */
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { parseSshTarget } from '../host/ssh-target.js';
import { DEFAULT_KUBELET_PORT, DEFAULT_POD_SUBNET, DEFAULT_SERVICE_SUBNET } from '../kube/cluster-spec.js';
import { KUBEADM_PATCH_KINDS, kubeadmPatchRefusal } from '../kube/kubeadm-patches.js';

export const CLUSTER_API_VERSION = 'rootlet.dev/v1alpha1';
export const CLUSTER_KIND = 'Cluster';
export const DEFAULT_CLUSTER_NAME = 'rootlet';
/** Node names are `<name>-control-plane` and `<name>-worker<N>`: with 40 the longest stays well inside a 63-byte DNS label. */
export const MAX_CLUSTER_NAME_LENGTH = 40;
export const MAX_WORKERS = 20;
export const DEFAULT_API_SERVER_ADDRESS = '127.0.0.1';
/** etcd's client and peer ports: never published. */
const ETCD_PORTS = [2379, 2380];
/** flannel's VXLAN port (the Linux kernel's default too, not IANA's 4789). */
export const DEFAULT_VXLAN_PORT = 8472;
export const CNI_NAMES = ['flannel', 'antrea', 'none'] as const;
export type CniName = (typeof CNI_NAMES)[number];

const DEFAULT_WAIT = '5m';
/** The longest wait: a mistake beyond it (and setTimeout's limit is 24.8 days). */
const MAX_WAIT_MS = 24 * 3_600_000;
/** The controller manager's default --node-cidr-mask-size: every node gets a /24 of the pod subnet. */
const NODE_CIDR_MASK = 24;

/**
 * A custom issue with the next step for the user, which load-cluster-file.ts prints as the hint. `alsoAt` (relative to
 * the same object as `path`) is where to point instead when `path` is not written in the file, being a default.
 */
function fail(ctx: z.RefinementCtx, message: string, hint: string, path: PropertyKey[] = [], alsoAt?: PropertyKey[]): void {
  ctx.addIssue({ code: 'custom', message, path, params: { hint, ...(alsoAt === undefined ? {} : { alsoAt, depth: path.length }) } });
}

const UNITS_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000 };
const DURATION = /^(?:0|(?:\d+(?:\.\d+)?[hms])+)$/;

function durationMs(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) total += Number(amount) * UNITS_MS[unit!]!;
  return Math.round(total);
}

const NOT_A_DURATION = (text: unknown) => `${JSON.stringify(text)} is not a duration: write it like 90s, 5m or 1h30m`;
const TOO_LONG = (text: unknown) => `${JSON.stringify(text)} is longer than 24h`;

/** A Go-like duration with units h, m and s ("5m", "90s", "1h30m", "1.5h"; "0" is zero) in milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const hint = 'give a duration of hours, minutes and seconds, such as 90s, 5m or 1h30m';
  if (!DURATION.test(trimmed)) throw new UsageError(NOT_A_DURATION(text), hint);
  const ms = durationMs(trimmed);
  if (ms > MAX_WAIT_MS) throw new UsageError(TOO_LONG(text), hint);
  return ms;
}

export const DEFAULT_WAIT_MS = parseDuration(DEFAULT_WAIT);

interface Ipv4Network {
  address: number;
  prefix: number;
  first: number;
  last: number;
}

const IPV4_CIDR = /^((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})\/(3[0-2]|[12]?\d)$/;

function ipv4Network(cidr: string): Ipv4Network | undefined {
  const match = IPV4_CIDR.exec(cidr);
  if (!match) return undefined;
  const address = match[1]!.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const prefix = Number(match[2]);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  return { address, prefix, first, last: first + size - 1 };
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** An IPv4 network written as its own address (no host bits): what flannel, kubeadm and the engines all read alike. */
const Ipv4Cidr = z
  .string({ error: 'must be an IPv4 CIDR such as 10.244.0.0/16' })
  .regex(IPV4_CIDR, { error: (issue) => `${JSON.stringify(issue.input)} is not an IPv4 CIDR such as 10.244.0.0/16 (rootlet's networks are IPv4)` })
  .superRefine((cidr, ctx) => {
    const network = ipv4Network(cidr);
    if (network && network.address !== network.first)
      fail(ctx, `"${cidr}" has host bits set`, `write the network's own address: ${formatIpv4(network.first)}/${network.prefix}`);
  });

export const ClusterName = z
  .string({ error: 'must be a name such as dev' })
  .max(MAX_CLUSTER_NAME_LENGTH, { error: `must be at most ${MAX_CLUSTER_NAME_LENGTH} characters (node names add "-control-plane")` })
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: (issue) => `${JSON.stringify(issue.input)} is not a DNS label: use lowercase letters, digits and "-"` })
  .describe('The cluster name, a DNS label: nodes are <name>-control-plane and <name>-worker<N>.');

export const NodeImage = z
  .string({ error: 'must be an image reference such as localhost/rootlet-node:v1.33.1' })
  // The characters of [registry[:port]/]name[:tag][@digest]: no shell or option character gets near an engine.
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,511}$/, {
    error: (issue) => `${JSON.stringify(issue.input)} is not an image reference: only letters, digits and . _ - / : @, as in localhost/rootlet-node:v1.33.1`,
  })
  .describe('The node image (kindest/node plus what rootlet adds); the default one when not given.');

export const Workers = z
  .number({ error: 'must be a whole number of local workers' })
  .int({ error: 'must be a whole number of local workers' })
  .min(0, { error: 'cannot be negative' })
  .max(MAX_WORKERS, { error: `must be at most ${MAX_WORKERS}: more nodes on one host need more than a workstation` })
  .describe(`Worker nodes on this host, 0 to ${MAX_WORKERS}.`);

export const Port = z
  .number({ error: 'must be a port number' })
  .int({ error: 'must be a whole port number' })
  .min(1, { error: 'must be a port from 1 to 65535' })
  .max(65535, { error: 'must be a port from 1 to 65535' });

export const IpAddress = z.union([z.ipv4(), z.ipv6()], { error: (issue) => `${JSON.stringify(issue.input)} is not an IP address` });

export const Duration = z
  .string({ error: 'must be a duration such as 5m' })
  .regex(DURATION, { error: (issue) => NOT_A_DURATION(issue.input) })
  .refine((text) => !DURATION.test(text) || durationMs(text) <= MAX_WAIT_MS, { error: (issue) => TOO_LONG(issue.input) })
  .describe('A duration with units h, m and s: "90s", "5m", "1h30m".');

export const CniName = z.enum(CNI_NAMES, { error: (issue) => `${JSON.stringify(issue.input)} is not a CNI rootlet installs: use ${CNI_NAMES.join(', ')}` });

const Cni = z
  .strictObject({
    name: CniName.default('flannel').describe('The pod network: flannel (default), antrea, or none (install your own).'),
    manifest: z
      .string({ error: 'must be a file path' })
      .min(1, { error: 'must be a file path' })
      .optional()
      .describe("The CNI's manifest from a file instead of the pinned download (air-gapped hosts); relative to the cluster file's directory."),
  })
  .superRefine((cni, ctx) => {
    if (cni.name === 'none' && cni.manifest !== undefined)
      fail(ctx, 'a manifest needs a CNI to install: name is none', 'remove manifest, or set name to the CNI it installs', ['manifest']);
  });

const Networking = z
  .strictObject({
    podSubnet: Ipv4Cidr.default(DEFAULT_POD_SUBNET).describe('The pods’ network; each node gets a /24 of it.'),
    serviceSubnet: Ipv4Cidr.default(DEFAULT_SERVICE_SUBNET).describe('The Services’ network (kind’s /16, not kubeadm’s /12).'),
    apiServerPort: Port.optional().describe('The host port of the API server; a free one is picked when not given.'),
    apiServerAddress: IpAddress.default(DEFAULT_API_SERVER_ADDRESS).describe('The host address the API server is published on.'),
    kubeletPort: Port.default(DEFAULT_KUBELET_PORT).describe("The kubelets' port, cluster-wide."),
    vxlanPort: Port.default(DEFAULT_VXLAN_PORT).describe('The UDP port of the pod network between nodes (flannel VXLAN).'),
    advertiseAddress: z
      .union([z.literal('auto'), IpAddress], { error: (issue) => `${JSON.stringify(issue.input)} is not an IP address or auto` })
      .optional()
      .describe(
        'The address of this host that nodes on other hosts reach the control plane at: the API server, kubelet and VXLAN ports are published there. Needed to join other hosts; auto: the source address of the default route; default with hosts: the address of the interface that routes to them.',
      ),
  })
  .superRefine((net, ctx) => {
    const pods = ipv4Network(net.podSubnet);
    const services = ipv4Network(net.serviceSubnet);
    if (pods && services && pods.first <= services.last && services.first <= pods.last)
      fail(
        ctx,
        `podSubnet ${net.podSubnet} and serviceSubnet ${net.serviceSubnet} overlap`,
        `choose subnets that do not overlap, such as podSubnet ${DEFAULT_POD_SUBNET} and serviceSubnet ${DEFAULT_SERVICE_SUBNET}`,
        ['serviceSubnet'],
        ['podSubnet'],
      );
    // kube-apiserver refuses a service range of more than 2^20 addresses.
    if (services && services.prefix < 12)
      fail(ctx, `${net.serviceSubnet} is larger than the API server accepts (/12 at most)`, `use a /12 to /24, such as ${DEFAULT_SERVICE_SUBNET}`, [
        'serviceSubnet',
      ]);
    if (net.advertiseAddress !== undefined && isLoopback(net.advertiseAddress))
      fail(
        ctx,
        `${net.advertiseAddress} is a loopback address: other hosts cannot reach it`,
        'give an address of this host that the other hosts reach, such as the one `ip route get <other host>` shows as src',
        ['advertiseAddress'],
      );
    if (net.apiServerPort !== undefined && net.apiServerPort === net.kubeletPort)
      fail(
        ctx,
        `${net.apiServerPort} is also the kubeletPort`,
        'choose another apiServerPort, or leave it out to have a free one picked',
        ['apiServerPort'],
        ['kubeletPort'],
      );
  });

const GateName = z
  .string()
  .regex(/^[A-Z][A-Za-z0-9]*$/, { error: (issue) => `${JSON.stringify(issue.input)} is not a feature gate name (like SidecarContainers)` });

const FeatureGates = z
  .record(GateName, z.boolean())
  .superRefine((gates, ctx) => {
    if (gates.KubeletInUserNamespace === false)
      fail(ctx, 'cannot be off: every rootlet node runs in a user namespace', 'remove KubeletInUserNamespace from featureGates', ['KubeletInUserNamespace']);
  })
  .describe('Feature gates for every component (API server, controller manager, scheduler, kubelet, kube-proxy).');

const KubeArg = z.strictObject({
  name: z
    .string({ error: 'must be a flag name' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
      error: (issue) =>
        typeof issue.input === 'string' && issue.input.startsWith('-')
          ? `write the flag name without dashes: ${JSON.stringify(issue.input.replace(/^-+/, ''))}`
          : `${JSON.stringify(issue.input)} is not a flag name`,
    })
    .describe('The flag name, without dashes.'),
  value: z.string({ error: (issue) => `must be a string: quote it, as in value: "${String(issue.input)}"` }).describe('Its value, always a string.'),
});

const KubeArgs = z.array(KubeArg).meta({ id: 'KubeArgs', description: 'Flags as kubeadm v1beta4 lists them: the name without dashes, the value a string.' });

const ExtraArgs = z
  .strictObject({ apiServer: KubeArgs.optional(), controllerManager: KubeArgs.optional(), scheduler: KubeArgs.optional(), kubelet: KubeArgs.optional() })
  .describe('Extra flags per component, after rootlet’s own: [{name: audit-log-maxage, value: "3"}].');

const KubeadmConfigPatch = z
  .strictObject({
    kind: z
      .enum(KUBEADM_PATCH_KINDS, {
        error: (issue) => `${JSON.stringify(issue.input)} is not a kind rootlet renders: use ${KUBEADM_PATCH_KINDS.join(', ')}`,
      })
      .describe('The kind of the documents to patch.'),
    apiVersion: z.string().min(1).optional().describe('Only documents of this apiVersion (kubeadm.k8s.io/v1beta4, kubelet.config.k8s.io/v1beta1, ...).'),
    patch: z.record(z.string(), z.unknown(), { error: 'must be a mapping: the RFC 7386 merge patch' }).describe('The merge patch: null removes a field.'),
  })
  .superRefine((patch, ctx) => {
    const refusal = kubeadmPatchRefusal(patch);
    if (refusal) fail(ctx, refusal.message, refusal.hint, ['patch', ...refusal.path]);
  });

const Kubernetes = z
  .strictObject({
    featureGates: FeatureGates.default({}),
    userNamespacedPods: z.boolean().optional().describe('Pods with hostUsers: false; the default follows the Kubernetes version (on from 1.33).'),
    extraArgs: ExtraArgs.default({}),
    kubeadmConfigPatches: z
      .array(KubeadmConfigPatch)
      .default([])
      .describe("RFC 7386 merge patches on the rendered kubeadm configuration, by kind, as kind's kubeadmConfigPatches."),
  })
  .superRefine((kube, ctx) => {
    const gate = kube.featureGates.UserNamespacesSupport;
    if (kube.userNamespacedPods !== undefined && gate !== undefined && gate !== kube.userNamespacedPods)
      fail(ctx, `is ${kube.userNamespacedPods} but feature gate UserNamespacesSupport is ${gate}`, 'set only userNamespacedPods', ['userNamespacedPods']);
  });

const LABEL_KEY = /^(?:([a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)\/)?([A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** The kubernetes.io labels a kubelet may set on its own node (k8s.io/kubelet's well-known labels); it refuses to start on others. */
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
]);
const inDomain = (prefix: string, domain: string) => prefix === domain || prefix.endsWith(`.${domain}`);

function labelProblem(key: string, value: string): [message: string, hint: string] | undefined {
  const match = LABEL_KEY.exec(key);
  if (!match || key.length > 316 || (match[1]?.length ?? 0) > 253 || match[2]!.length > 63)
    return [
      `${JSON.stringify(key)} is not a label key`,
      'use a key like example.com/tier: an optional DNS prefix and "/", then letters, digits, "-", "_" or "."',
    ];
  const prefix = match[1];
  if (
    prefix !== undefined &&
    (inDomain(prefix, 'kubernetes.io') || inDomain(prefix, 'k8s.io')) &&
    !KUBELET_LABELS.has(key) &&
    !inDomain(prefix, 'kubelet.kubernetes.io') &&
    !inDomain(prefix, 'node.kubernetes.io')
  )
    return [
      `the kubelet may not set ${key} on its own node (it refuses to start)`,
      key.startsWith('node-role.kubernetes.io/')
        ? `set it after the cluster is up: kubectl label node NODE ${key}=`
        : 'use your own prefix, such as example.com/',
    ];
  if (!LABEL_VALUE.test(value) || value.length > 63)
    return [`${JSON.stringify(value)} is not a label value`, 'use at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit'];
  return undefined;
}

/** One port of a node published on its host, as kind's extraPortMappings; hosts[] and nodes share it. */
function extraPortMappings(node: string, listenDefault: string) {
  return z
    .array(
      z.strictObject({
        containerPort: Port.describe('The port inside the node (a NodePort, a hostPort pod).'),
        hostPort: Port.optional().describe('The port on the host; default: the same as containerPort.'),
        listenAddress: IpAddress.optional().describe(`The host address it binds to; default: ${listenDefault} (never 0.0.0.0 unless given).`),
        protocol: z.enum(['tcp', 'udp']).default('tcp'),
      }),
    )
    .default([])
    .describe(`Ports of ${node} published on the host, as kind's extraPortMappings.`);
}
type ExtraPortMapping = z.infer<ReturnType<typeof extraPortMappings>>[number];

/** What the node container mounts itself, or the engine does: an extra mount there or above would hide it. */
const NODE_OWN_PATHS = ['/var', '/lib/modules', '/run', '/tmp', '/dev', '/proc', '/sys', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];
/** Kernel filesystems: nothing is mounted inside them. */
const KERNEL_PATHS = ['/dev', '/proc', '/sys'];
const within = (child: string, parent: string) => child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);
/** A path in the node as the kernel sees it: /data/ and /data/./x/.. are /data. */
const nodePath = (written: string) => path.posix.normalize(written).replace(/(.)\/$/, '$1');

const ExtraMount = z
  .strictObject({
    hostPath: z
      .string({ error: 'must be a file path' })
      .min(1, { error: 'must be a file path' })
      .describe("A file or directory of this host, which must exist; a relative path is relative to the cluster file's directory."),
    containerPath: z
      .string({ error: 'must be a path in the node' })
      .min(1, { error: 'must be a path in the node' })
      .describe('Where it appears in the node: an absolute path, not one the node mounts itself (/var, /lib/modules, /run, /tmp, /dev, ...).'),
    readOnly: z.boolean().default(false),
    propagation: z
      .enum(['none', 'hostToContainer'])
      .default('none')
      .describe('hostToContainer: what is mounted under hostPath later shows in the node too (rslave); none: only what is there at the start.'),
  })
  .superRefine((mount, ctx) => {
    // Docker's bind syntax is source:target:options; a colon in a path cannot be written in it.
    for (const key of ['hostPath', 'containerPath'] as const)
      if (mount[key].includes(':'))
        fail(ctx, `${JSON.stringify(mount[key])} contains ":", which a bind mount cannot carry`, 'use a path without ":" (a symlink to it)', [key]);
    if (mount.hostPath.startsWith('~'))
      fail(ctx, `${JSON.stringify(mount.hostPath)}: ~ is not expanded here`, "write the full path, or one relative to the cluster file's directory", [
        'hostPath',
      ]);
    if (!mount.containerPath.startsWith('/')) {
      fail(ctx, `${JSON.stringify(mount.containerPath)} is not an absolute path`, 'write the path in the node from /, such as /data', ['containerPath']);
      return;
    }
    const target = nodePath(mount.containerPath);
    const kernel = KERNEL_PATHS.find((dir) => within(target, dir));
    const own = NODE_OWN_PATHS.find((dir) => within(dir, target));
    if (kernel || own)
      fail(
        ctx,
        kernel ? `${target} is ${target === kernel ? 'a' : `inside ${kernel}, a`} kernel filesystem of the node` : `${target} would hide the node's own ${own}`,
        'mount it elsewhere, such as under /mnt',
        ['containerPath'],
      );
  });

const Nodes = z
  .strictObject({
    labels: z
      .record(z.string(), z.string({ error: (issue) => `must be a string: quote it, as in "${String(issue.input)}"` }))
      .default({})
      .superRefine((labels, ctx) => {
        for (const [key, value] of Object.entries(labels)) {
          const problem = labelProblem(key, value);
          if (problem) fail(ctx, ...problem, [key]);
        }
      })
      .describe('Labels every node registers with, like example.com/tier: dev.'),
    extraPortMappings: extraPortMappings('the control-plane node (NodePorts, hostPort pods on it)', 'networking.apiServerAddress'),
    extraMounts: z
      .array(ExtraMount)
      .default([])
      .superRefine((mounts, ctx) => {
        const seen = new Set<string>();
        mounts.forEach((mount, index) => {
          const target = nodePath(mount.containerPath);
          if (seen.has(target)) fail(ctx, `${target} is mounted twice`, 'mount one hostPath at each containerPath', [index, 'containerPath']);
          seen.add(target);
        });
      })
      .describe(
        "Files or directories of this host bind-mounted into every node on it (the control plane and workers; not the hosts' nodes), as kind's extraMounts.",
      ),
  })
  .describe('Settings for every node of the cluster.');
type Nodes = z.infer<typeof Nodes>;

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);
}

/** A host joined over SSH (`rootlet join`, or `rootlet up` with the file): one worker node in its user's rootless engine. */
const HostEntry = z
  .strictObject({
    address: z
      .string({ error: 'must be a host name, an IP address or a Host alias of ~/.ssh/config' })
      .min(1, { error: 'must be a host name, an IP address or a Host alias of ~/.ssh/config' })
      .describe('Where SSH connects: a host name, an IP address, or a Host alias of ~/.ssh/config.'),
    user: z.string({ error: 'must be a login name' }).optional().describe('The login name (default: ~/.ssh/config’s User, else yours).'),
    port: Port.optional().describe('The SSH port (default: ~/.ssh/config’s Port, else 22).'),
    identity: z
      .string({ error: 'must be a file path' })
      .min(1, { error: 'must be a file path' })
      .optional()
      .describe('A private key file for this host, relative to the cluster file’s directory (default: ssh-agent, ~/.ssh/config, ~/.ssh/id_*).'),
    advertiseAddress: IpAddress.optional().describe(
      "The address the other hosts reach this host's node at (its kubelet and VXLAN ports are published there); default: the address SSH connected to.",
    ),
    extraPortMappings: extraPortMappings("this host's node", "the host's advertise address"),
    role: z
      .enum(['worker'], {
        error: (issue) => `${JSON.stringify(issue.input)} is not a role rootlet joins: hosts join as worker (one control plane, on this host)`,
      })
      .default('worker')
      .describe('worker: the control plane runs on the host that runs rootlet up.'),
  })
  .superRefine((entry, ctx) => {
    // The same checks as a HOST argument: nothing with shell or ssh option characters gets near a connection.
    try {
      parseSshTarget(`${entry.user === undefined ? '' : `${entry.user}@`}${entry.address.includes(':') ? `[${entry.address}]` : entry.address}`);
    } catch (error) {
      fail(ctx, error instanceof Error ? error.message.replace(/; expected .*$/, '') : String(error), 'write a host name or address, and the user separately', [
        entry.user === undefined ? 'address' : 'user',
      ]);
    }
    if (entry.advertiseAddress !== undefined && isLoopback(entry.advertiseAddress))
      fail(ctx, `${entry.advertiseAddress} is a loopback address: other hosts cannot reach it`, "give the host's own address", ['advertiseAddress']);
  });
export type HostEntry = z.infer<typeof HostEntry>;

/** Every extraPortMappings list: no port the cluster publishes itself, none twice, never etcd's. */
function checkPortMappings(
  ctx: z.RefinementCtx,
  mappings: readonly ExtraPortMapping[],
  own: ReadonlyArray<{ port: number; protocol: 'tcp' | 'udp'; what: string }>,
  at: PropertyKey[],
): void {
  const seen = new Set<string>();
  mappings.forEach((mapping, index) => {
    const hostPort = mapping.hostPort ?? mapping.containerPort;
    const clash = own.find((taken) => taken.port === hostPort && taken.protocol === mapping.protocol);
    const key = `${mapping.listenAddress ?? ''}:${hostPort}/${mapping.protocol}`;
    if (clash)
      fail(ctx, `${hostPort}/${mapping.protocol} is the cluster's ${clash.what}`, 'publish another host port', [
        ...at,
        index,
        mapping.hostPort === undefined ? 'containerPort' : 'hostPort',
      ]);
    else if (seen.has(key)) fail(ctx, `${hostPort}/${mapping.protocol} is published twice`, 'publish each host port once', [...at, index]);
    else if (ETCD_PORTS.includes(mapping.containerPort))
      fail(ctx, `${mapping.containerPort} is etcd's: nothing outside the node talks to etcd`, 'remove this mapping', [...at, index, 'containerPort']);
    seen.add(key);
  });
}

/** The nodes' settings with each extra mount's hostPath absolute: relative ones are relative to `baseDir` (the file's). */
export function resolveMountPaths(nodes: Nodes, baseDir: string): Nodes {
  if (nodes.extraMounts.length === 0) return nodes;
  return { ...nodes, extraMounts: nodes.extraMounts.map((mount) => ({ ...mount, hostPath: path.resolve(baseDir, mount.hostPath) })) };
}

/** The file's schema; defaults are applied in parsing, so the parsed file is complete. */
export const ClusterFileSchema = z
  .strictObject({
    // Missing ones fall through to load-cluster-file's "is required".
    apiVersion: z
      .literal(CLUSTER_API_VERSION, {
        error: (issue) => (issue.input === undefined ? undefined : `${JSON.stringify(issue.input)} is not a version rootlet reads`),
      })
      .describe('The version of the cluster file format.'),
    kind: z
      .literal(CLUSTER_KIND, { error: (issue) => (issue.input === undefined ? undefined : `${JSON.stringify(issue.input)} is not a kind rootlet reads`) })
      .describe('What the file describes.'),
    name: ClusterName.default(DEFAULT_CLUSTER_NAME),
    image: NodeImage.optional(),
    workers: Workers.default(0),
    cni: Cni.prefault({}).describe('The pod network, and where its manifest comes from.'),
    networking: Networking.prefault({}).describe("The cluster's subnets, and the addresses and ports it is reached at."),
    kubernetes: Kubernetes.prefault({}).describe('What rootlet passes on to kubeadm and the Kubernetes components.'),
    nodes: Nodes.prefault({}),
    wait: Duration.default(DEFAULT_WAIT).describe('How long `rootlet up` waits for every node and the CNI to be ready.'),
    hosts: z
      .array(HostEntry)
      .default([])
      .describe('Other hosts, joined over SSH after the control plane is up (`rootlet up -f`, `rootlet join -f`); one node on each.'),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.hosts.forEach((entry, index) => {
      const key = `${entry.user ?? ''}@${entry.address}:${entry.port ?? ''}`;
      const first = seen.get(key);
      if (first !== undefined) fail(ctx, `is the same host as hosts[${first}]`, 'list each host once', ['hosts', index, 'address']);
      else seen.set(key, index);
    });
    if (file.hosts.length === 0 && file.networking.advertiseAddress !== undefined && file.workers > 0)
      fail(
        ctx,
        'a cluster reachable from other hosts runs one node per host: local workers cannot share the pod network with remote hosts (one VXLAN port per host address)',
        'set workers to 0 and join the other hosts with rootlet join',
        ['workers'],
        ['networking', 'advertiseAddress'],
      );
    const { apiServerPort, kubeletPort, vxlanPort } = file.networking;
    const kubelet = { port: kubeletPort, protocol: 'tcp', what: 'kubeletPort' } as const;
    const vxlan = { port: vxlanPort, protocol: 'udp', what: 'vxlanPort' } as const;
    file.hosts.forEach((entry, index) => checkPortMappings(ctx, entry.extraPortMappings, [kubelet, vxlan], ['hosts', index, 'extraPortMappings']));
    // The control plane publishes its kubelet and VXLAN ports only for nodes on other hosts.
    const reachable = file.networking.advertiseAddress !== undefined || file.hosts.length > 0;
    checkPortMappings(
      ctx,
      file.nodes.extraPortMappings,
      [
        ...(apiServerPort === undefined ? [] : [{ port: apiServerPort, protocol: 'tcp', what: 'apiServerPort' } as const]),
        ...(reachable ? [kubelet, vxlan] : []),
      ],
      ['nodes', 'extraPortMappings'],
    );
    if (file.hosts.length > 0 && file.workers > 0)
      fail(
        ctx,
        'a cluster with hosts runs one node per host: local workers and remote hosts cannot share the pod network (one VXLAN port per host address)',
        'set workers to 0 and list every worker host under hosts',
        ['workers'],
      );
    // Each node needs its own block of the pod subnet unless the controller manager is told otherwise.
    const nodes = 1 + file.workers + file.hosts.length;
    const pods = ipv4Network(file.networking.podSubnet);
    const ownMask = (file.kubernetes.extraArgs.controllerManager ?? []).some((arg) => arg.name === 'node-cidr-mask-size');
    if (pods && !ownMask) {
      const blocks = pods.prefix > NODE_CIDR_MASK ? 0 : 2 ** (NODE_CIDR_MASK - pods.prefix);
      if (blocks < nodes)
        fail(
          ctx,
          `${file.networking.podSubnet} holds ${blocks} node range${blocks === 1 ? '' : 's'} (a /${NODE_CIDR_MASK} each) but the cluster has ${nodes} nodes`,
          `use a larger podSubnet, such as ${DEFAULT_POD_SUBNET}`,
          ['networking', 'podSubnet'],
          ['workers'],
        );
    }
  })
  .meta({
    title: 'rootlet cluster file',
    description: `A cluster for \`rootlet up -f FILE\`: apiVersion ${CLUSTER_API_VERSION}, kind ${CLUSTER_KIND}. Flags given to rootlet up override it.`,
  });

/** The parsed, defaulted file; cni.manifest is resolved against the file's directory by loadClusterFile. */
export type ClusterFile = z.infer<typeof ClusterFileSchema>;
/** What a user may write. */
export type ClusterFileInput = z.input<typeof ClusterFileSchema>;

/** Everything `up` needs to know about the cluster: defaults < file < flags, validated together (mergeClusterOptions). */
export type ClusterOptions = Omit<ClusterFile, 'apiVersion' | 'kind' | 'wait'> & {
  /** How long to wait for readiness, in milliseconds (0: do not wait). */
  waitMs: number;
};
