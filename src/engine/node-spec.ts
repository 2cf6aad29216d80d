import type { ContainerCreateOptions, HostConfig, VolumeCreateOptions } from 'dockerode';
import { ExitCode, RootletError } from '../errors.js';
import { LABELS, type ClusterSettings, type EngineInfo, type NodeSpec } from './types.js';

/** dockerode's types predate CgroupnsMode (Docker API 1.41, Podman 3). */
export type NodeCreateOptions = ContainerCreateOptions & { HostConfig: HostConfig & { CgroupnsMode: 'private' | 'host' } };

/** etcd's client and peer ports: nothing outside the node talks to etcd. */
const ETCD_PORTS = [2379, 2380];

/** What an engine asks for when nothing is said: above it, the host's hard limit must be given explicitly. */
const ENGINE_DEFAULT_NOFILE = 1048576;

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
export function nodeContainerSpec(cluster: ClusterSettings, node: NodeSpec, engine: EngineInfo): NodeCreateOptions {
  const etcd = node.ports.find((port) => ETCD_PORTS.includes(port.containerPort));
  if (etcd)
    throw new RootletError('etcd-published', `node ${node.name} would publish etcd's port ${etcd.containerPort}: etcd is never published`, {
      exitCode: ExitCode.usage,
      hint: 'remove that port mapping',
    });
  const podman = engine.kind === 'podman';
  const portKey = (port: NodeSpec['ports'][number]) => `${port.containerPort}/${port.protocol}`;
  const env = {
    ...(podman ? { container: 'podman' } : {}),
    ...(node.role === 'control-plane' ? { KUBECONFIG: '/etc/kubernetes/admin.conf' } : {}),
    ...node.env,
  };
  const binds = [
    // Podman mounts named volumes nosuid,noexec,nodev unless told otherwise; containerd needs all three on /var.
    `${varVolumeName(node)}:/var${podman ? ':suid,exec,dev' : ''}`,
    ...(node.libModules === false ? [] : ['/lib/modules:/lib/modules:ro']),
    ...(node.mounts ?? []).map((mount) => `${mount.source}:${mount.target}${mount.readOnly ? ':ro' : ''}`),
  ];
  const nofile = node.nofileLimit !== undefined && node.nofileLimit < ENGINE_DEFAULT_NOFILE ? node.nofileLimit : undefined;
  return {
    name: node.name,
    Hostname: node.name,
    Image: cluster.image,
    Labels: nodeLabels(cluster, node),
    Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
    Tty: true,
    ExposedPorts: Object.fromEntries(node.ports.map((port) => [portKey(port), {}])),
    HostConfig: {
      Privileged: true,
      // systemd wants a writable /run; /tmp must not land on the overlay.
      Tmpfs: { '/run': '', '/tmp': '' },
      Binds: binds,
      CgroupnsMode: 'private',
      NetworkMode: cluster.network,
      RestartPolicy: { Name: 'always' },
      Sysctls: { 'net.ipv4.ip_forward': '1' },
      PortBindings: Object.fromEntries(node.ports.map((port) => [portKey(port), [{ HostIp: port.hostAddress, HostPort: String(port.hostPort) }]])),
      // Rootless Docker does not pass /dev/fuse through with --privileged; the fuse-overlayfs snapshotter needs it.
      ...(engine.rootless ? { Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }] } : {}),
      ...(podman ? {} : { SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'], Init: false }),
      ...(nofile === undefined ? {} : { Ulimits: [{ Name: 'nofile', Soft: nofile, Hard: nofile }] }),
    },
  };
}
