import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import { LABELS, type NodeRole, type NodeState, type NodeStatus, type PortMapping } from './types.js';

const STATUSES: readonly NodeStatus[] = ['created', 'running', 'paused', 'restarting', 'exited', 'dead'];

function status(value: string | undefined): NodeStatus {
  const lower = (value ?? '').toLowerCase();
  // Podman says "configured"/"stopped" where Docker says "created"/"exited".
  if (lower === 'configured' || lower === 'initialized') return 'created';
  if (lower === 'stopped') return 'exited';
  return STATUSES.find((known) => known === lower) ?? 'unknown';
}

function role(labels: Record<string, string>): NodeRole {
  return labels[LABELS.role] === 'control-plane' ? 'control-plane' : 'worker';
}

/** The one mapper from an engine's inspect answer to rootlet's NodeState. */
export function nodeStateFromInspect(inspect: ContainerInspectInfo): NodeState {
  const labels = inspect.Config.Labels ?? {};
  const bindings = (inspect.HostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
  const ports: PortMapping[] = Object.entries(bindings).flatMap(([key, hosts]) => {
    const [port, protocol] = key.split('/');
    return (hosts ?? []).map((host) => ({
      hostAddress: host.HostIp || '0.0.0.0',
      hostPort: Number(host.HostPort),
      containerPort: Number(port),
      protocol: protocol === 'udp' ? ('udp' as const) : ('tcp' as const),
    }));
  });
  const networks = Object.values(inspect.NetworkSettings.Networks ?? {});
  return {
    id: inspect.Id,
    name: inspect.Name.replace(/^\//, ''),
    cluster: labels[LABELS.cluster] ?? '',
    role: role(labels),
    hostId: labels[LABELS.host] ?? 'local',
    status: status(inspect.State.Status),
    image: inspect.Config.Image,
    ports,
    address: networks.map((network) => network.IPAddress).find(Boolean),
    exitCode: status(inspect.State.Status) === 'exited' ? inspect.State.ExitCode : undefined,
    restarts: (inspect as { RestartCount?: number }).RestartCount ?? 0,
  };
}

/** The same from a list entry (no inspect per node for `status`). */
export function nodeStateFromList(entry: ContainerInfo): NodeState {
  const labels = entry.Labels ?? {};
  const exited = /Exited \((\d+)\)/.exec(entry.Status ?? '');
  return {
    id: entry.Id,
    name: (entry.Names[0] ?? '').replace(/^\//, ''),
    cluster: labels[LABELS.cluster] ?? '',
    role: role(labels),
    hostId: labels[LABELS.host] ?? 'local',
    status: status(entry.State),
    image: entry.Image,
    ports: (entry.Ports ?? [])
      .filter((port) => port.PublicPort)
      .map((port) => ({
        hostAddress: port.IP || '0.0.0.0',
        hostPort: port.PublicPort,
        containerPort: port.PrivatePort,
        protocol: port.Type === 'udp' ? 'udp' : 'tcp',
      })),
    address: Object.values(entry.NetworkSettings?.Networks ?? {})
      .map((network) => network.IPAddress)
      .find(Boolean),
    exitCode: exited ? Number(exited[1]) : undefined,
    restarts: 0,
  };
}
