import type { ContainerCreateOptions, HostConfig, VolumeCreateOptions } from 'dockerode';
import { ExitCode, RootletError } from '../errors.js';
import { LABELS, type ClusterSettings, type EngineInfo, type Mount, type NodeSpec } from './types.js';

/** dockerode's types predate CgroupnsMode (Docker API 1.41, Podman 3). */
export type DockerCreateOptions = ContainerCreateOptions & { HostConfig: HostConfig & { CgroupnsMode: 'private' | 'host' } };

/** The fields of Podman's SpecGenerator (libpod API, Podman >= 4) that a node needs. */
export interface PodmanCreateSpec {
  name: string;
  hostname: string;
  image: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  terminal: boolean;
  privileged: boolean;
  mounts: Array<{ destination: string; type: 'tmpfs' | 'bind'; source: string; options: string[] }>;
  volumes: Array<{ Name: string; Dest: string; Options: string[] }>;
  cgroupns: { nsmode: 'private' };
  netns: { nsmode: 'bridge' };
  Networks: Record<string, { static_ips?: string[] }>;
  hostadd?: string[];
  restart_policy: 'always';
  sysctl: Record<string, string>;
  portmappings: Array<{ host_ip: string; host_port: number; container_port: number; protocol: 'tcp' | 'udp' }>;
  devices: Array<{ path: string }>;
  r_limits?: Array<{ type: 'nofile'; soft: number; hard: number }>;
}

/**
 * How to create a node container on this engine: Docker's API, or Podman's own (libpod) API, because
 * Podman 4's Docker-compatible endpoint silently drops CgroupnsMode and Ulimits (measured on 4.3.1).
 */
export type NodeCreateRequest = { api: 'docker'; body: DockerCreateOptions } | { api: 'libpod'; body: PodmanCreateSpec };

/** etcd's client and peer ports: nothing outside the node talks to etcd. */
const ETCD_PORTS = [2379, 2380];

/** What an engine asks for when nothing is said: above it, the host's hard limit must be given explicitly. */
const ENGINE_DEFAULT_NOFILE = 1048576;

/** Docker's bind syntax, source:target[:options]: the paths cannot hold a colon (the cluster file refuses one). */
function dockerBind(bind: Mount): string {
  const options = [...(bind.readOnly ? ['ro'] : []), ...(bind.propagation === undefined ? [] : [bind.propagation])];
  return `${bind.source}:${bind.target}${options.length === 0 ? '' : `:${options.join(',')}`}`;
}

export function varVolumeName(node: Pick<NodeSpec, 'name'>): string {
  return `${node.name}-var`;
}

function nodeLabels(cluster: Pick<ClusterSettings, 'name'>, node: Pick<NodeSpec, 'name' | 'role' | 'hostId'>): Record<string, string> {
  return { [LABELS.cluster]: cluster.name, [LABELS.role]: node.role, [LABELS.host]: node.hostId, [LABELS.node]: node.name };
}

/** The named volume that holds the node's /var (pods, images, etcd, logs), off the container's overlay. */
export function nodeVolumeSpec(cluster: ClusterSettings, node: NodeSpec): VolumeCreateOptions {
  return { Name: varVolumeName(node), Labels: nodeLabels(cluster, node) };
}

/**
 * Every Podman/Docker decision for one node container, made once, from data.
 * Follows kind's node arguments and Usernetes' compose service (../shared/research), plus:
 * restart "always" on both engines (kind gives Podman none, so its clusters die with a reboot),
 * ports bound to the address the spec names (never 0.0.0.0 by default), etcd never published,
 * no volumes over /etc or /opt (stale copies shadow a new image), explicit nofile below the host's limit.
 */
export function nodeContainerSpec(cluster: ClusterSettings, node: NodeSpec, engine: EngineInfo): NodeCreateRequest {
  const etcd = node.ports.find((port) => ETCD_PORTS.includes(port.containerPort));
  if (etcd) {
    throw new RootletError('etcd-published', `node ${node.name} would publish etcd's port ${etcd.containerPort}: etcd is never published`, {
      exitCode: ExitCode.usage,
      hint: 'remove that port mapping',
    });
  }
  const podman = engine.kind === 'podman';
  const env = {
    ...(podman ? { container: 'podman' } : {}),
    ...(node.role === 'control-plane' ? { KUBECONFIG: '/etc/kubernetes/admin.conf' } : {}),
    ...node.env,
  };
  const binds = [...(node.libModules === false ? [] : [{ source: '/lib/modules', target: '/lib/modules', readOnly: true }]), ...(node.mounts ?? [])];
  const nofile = node.nofileLimit !== undefined && node.nofileLimit < ENGINE_DEFAULT_NOFILE ? node.nofileLimit : undefined;
  const labels = nodeLabels(cluster, node);
  const extraHosts = Object.entries(node.hosts ?? {}).map(([name, address]) => `${name}:${address}`);
  const sysctls = { 'net.ipv4.ip_forward': '1' };
  if (podman) {
    return {
      api: 'libpod',
      body: {
        name: node.name,
        hostname: node.name,
        image: cluster.image,
        labels,
        env,
        terminal: true,
        privileged: true,
        // systemd wants a writable /run; /tmp must not land on the overlay.
        mounts: [
          { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: [] },
          { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: [] },
          ...binds.map((bind) => ({
            destination: bind.target,
            type: 'bind' as const,
            source: bind.source,
            options: ['rbind', bind.readOnly ? 'ro' : 'rw', ...(bind.propagation === undefined ? [] : [bind.propagation])],
          })),
        ],
        // Podman mounts named volumes nosuid,noexec,nodev unless told otherwise; containerd needs all three on /var.
        volumes: [{ Name: varVolumeName(node), Dest: '/var', Options: ['suid', 'exec', 'dev'] }],
        cgroupns: { nsmode: 'private' },
        netns: { nsmode: 'bridge' },
        Networks: { [cluster.network]: node.address === undefined ? {} : { static_ips: [node.address] } },
        ...(extraHosts.length === 0 ? {} : { hostadd: extraHosts }),
        restart_policy: 'always',
        sysctl: sysctls,
        portmappings: node.ports.map((port) => ({
          host_ip: port.hostAddress,
          host_port: port.hostPort,
          container_port: port.containerPort,
          protocol: port.protocol,
        })),
        // The fuse-overlayfs snapshotter needs /dev/fuse; rootless engines do not pass it with privileged alone.
        devices: engine.rootless ? [{ path: '/dev/fuse' }] : [],
        ...(nofile === undefined ? {} : { r_limits: [{ type: 'nofile' as const, soft: nofile, hard: nofile }] }),
      },
    };
  }
  const portKey = (port: NodeSpec['ports'][number]) => `${port.containerPort}/${port.protocol}`;
  return {
    api: 'docker',
    body: {
      name: node.name,
      Hostname: node.name,
      Image: cluster.image,
      Labels: labels,
      Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
      Tty: true,
      ExposedPorts: Object.fromEntries(node.ports.map((port) => [portKey(port), {}])),
      ...(node.address === undefined ? {} : { NetworkingConfig: { EndpointsConfig: { [cluster.network]: { IPAMConfig: { IPv4Address: node.address } } } } }),
      HostConfig: {
        Privileged: true,
        Tmpfs: { '/run': '', '/tmp': '' },
        Binds: [`${varVolumeName(node)}:/var`, ...binds.map(dockerBind)],
        CgroupnsMode: 'private',
        NetworkMode: cluster.network,
        RestartPolicy: { Name: 'always' },
        Sysctls: sysctls,
        // One container port may be published on several host addresses (loopback for kubectl, the host's address for other hosts).
        PortBindings: Object.fromEntries(
          [...new Set(node.ports.map(portKey))].map((key) => [
            key,
            node.ports.filter((port) => portKey(port) === key).map((port) => ({ HostIp: port.hostAddress, HostPort: String(port.hostPort) })),
          ]),
        ),
        ...(engine.rootless ? { Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }] } : {}),
        SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
        ...(extraHosts.length === 0 ? {} : { ExtraHosts: extraHosts }),
        Init: false,
        ...(nofile === undefined ? {} : { Ulimits: [{ Name: 'nofile', Soft: nofile, Hard: nofile }] }),
      },
    },
  };
}
