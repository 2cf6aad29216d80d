import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import { describe, expect, it } from 'vitest';
import { nodeStateFromInspect, nodeStateFromList } from '../../src/engine/node-state.js';

const IMAGE = 'ghcr.io/rootlet/node:v1.33.1';
const CONTROL_PLANE_LABELS = {
  'dev.rootlet.cluster': 'demo',
  'dev.rootlet.role': 'control-plane',
  'dev.rootlet.host': 'local',
  'dev.rootlet.node': 'demo-control-plane',
};

interface InspectShape {
  Id: string;
  Name: string;
  RestartCount?: number;
  State: { Status: string; ExitCode: number };
  Config: { Image: string; Labels: Record<string, string> | null };
  HostConfig: { PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null };
  NetworkSettings: { Networks?: Record<string, { IPAddress: string }> };
}

/** The fields of GET /containers/{id}/json that the mapper reads, as Docker 20.10 answers them. */
function inspect(overrides: Partial<InspectShape> = {}): ContainerInspectInfo {
  const base: InspectShape = {
    Id: 'f3a1c0de',
    Name: '/demo-control-plane',
    RestartCount: 0,
    State: { Status: 'running', ExitCode: 0 },
    Config: { Image: IMAGE, Labels: CONTROL_PLANE_LABELS },
    HostConfig: {
      PortBindings: {
        '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '6443' }],
        '8472/udp': [{ HostIp: '', HostPort: '8472' }],
      },
    },
    NetworkSettings: { Networks: { 'rootlet-demo': { IPAddress: '10.100.42.2' } } },
  };
  return { ...base, ...overrides } as unknown as ContainerInspectInfo;
}

interface ListShape {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Labels: Record<string, string>;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  NetworkSettings?: { Networks: Record<string, { IPAddress: string }> };
}

/** One entry of GET /containers/json?all=true as Podman 4's compat API answers it. */
function listEntry(overrides: Partial<ListShape> = {}): ContainerInfo {
  const base: ListShape = {
    Id: '0b5e1d2c',
    Names: ['/demo-worker-1'],
    Image: IMAGE,
    State: 'exited',
    Status: 'Exited (3) 2 seconds ago',
    Labels: { 'dev.rootlet.cluster': 'demo', 'dev.rootlet.role': 'worker', 'dev.rootlet.host': 'build-box', 'dev.rootlet.node': 'demo-worker-1' },
    Ports: [],
    NetworkSettings: { Networks: { 'rootlet-demo': { IPAddress: '10.100.42.3' } } },
  };
  return { ...base, ...overrides } as unknown as ContainerInfo;
}

describe('nodeStateFromInspect', () => {
  it('maps a running Docker control-plane', () => {
    expect(nodeStateFromInspect(inspect())).toEqual({
      id: 'f3a1c0de',
      name: 'demo-control-plane',
      cluster: 'demo',
      role: 'control-plane',
      hostId: 'local',
      status: 'running',
      image: IMAGE,
      ports: [
        { hostAddress: '127.0.0.1', hostPort: 6443, containerPort: 6443, protocol: 'tcp' },
        { hostAddress: '0.0.0.0', hostPort: 8472, containerPort: 8472, protocol: 'udp' },
      ],
      address: '10.100.42.2',
      exitCode: undefined,
      restarts: 0,
    });
  });

  it('takes a name without the leading slash as it is (libpod style)', () => {
    expect(nodeStateFromInspect(inspect({ Name: 'demo-control-plane' })).name).toBe('demo-control-plane');
  });

  it('reads Podman\'s "configured" as created and "stopped" as exited, with its exit code', () => {
    expect(nodeStateFromInspect(inspect({ State: { Status: 'configured', ExitCode: 0 } })).status).toBe('created');
    const stopped = nodeStateFromInspect(inspect({ State: { Status: 'stopped', ExitCode: 3 } }));
    expect(stopped.status).toBe('exited');
    expect(stopped.exitCode).toBe(3);
  });

  it('gives an exit code only for an exited node', () => {
    expect(nodeStateFromInspect(inspect({ State: { Status: 'exited', ExitCode: 137 } })).exitCode).toBe(137);
    expect(nodeStateFromInspect(inspect({ State: { Status: 'exited', ExitCode: 0 } })).exitCode).toBe(0);
    expect(nodeStateFromInspect(inspect({ State: { Status: 'running', ExitCode: 0 } })).exitCode).toBeUndefined();
    expect(nodeStateFromInspect(inspect({ State: { Status: 'restarting', ExitCode: 1 } })).exitCode).toBeUndefined();
  });

  it('says unknown for a status it does not know', () => {
    expect(nodeStateFromInspect(inspect({ State: { Status: 'removing', ExitCode: 0 } })).status).toBe('unknown');
  });

  it('counts restarts from RestartCount, and none when the engine leaves it out', () => {
    expect(nodeStateFromInspect(inspect({ RestartCount: 4 })).restarts).toBe(4);
    const withoutCount = inspect() as unknown as InspectShape;
    delete withoutCount.RestartCount;
    expect(nodeStateFromInspect(withoutCount as unknown as ContainerInspectInfo).restarts).toBe(0);
  });

  it('makes a node without a role label a worker and without a host label local', () => {
    const state = nodeStateFromInspect(inspect({ Config: { Image: IMAGE, Labels: { 'dev.rootlet.cluster': 'demo' } } }));
    expect(state.role).toBe('worker');
    expect(state.hostId).toBe('local');
    expect(nodeStateFromInspect(inspect({ Config: { Image: IMAGE, Labels: { 'dev.rootlet.host': 'build-box' } } })).hostId).toBe('build-box');
  });

  it('survives null labels and null port bindings (Podman answers null for none)', () => {
    const state = nodeStateFromInspect(inspect({ Config: { Image: IMAGE, Labels: null }, HostConfig: { PortBindings: { '6443/tcp': null } } }));
    expect(state).toMatchObject({ cluster: '', role: 'worker', hostId: 'local', ports: [] });
    expect(nodeStateFromInspect(inspect({ HostConfig: { PortBindings: null } })).ports).toEqual([]);
  });

  it('takes the first non-empty address of the node networks, and none for a stopped node', () => {
    const twoNetworks = inspect({ NetworkSettings: { Networks: { podman: { IPAddress: '' }, 'rootlet-demo': { IPAddress: '10.100.42.9' } } } });
    expect(nodeStateFromInspect(twoNetworks).address).toBe('10.100.42.9');
    expect(nodeStateFromInspect(inspect({ NetworkSettings: { Networks: { 'rootlet-demo': { IPAddress: '' } } } })).address).toBeUndefined();
    expect(nodeStateFromInspect(inspect({ NetworkSettings: {} })).address).toBeUndefined();
  });
});

describe('nodeStateFromList', () => {
  it('maps an exited Podman worker from a list entry', () => {
    expect(nodeStateFromList(listEntry())).toEqual({
      id: '0b5e1d2c',
      name: 'demo-worker-1',
      cluster: 'demo',
      role: 'worker',
      hostId: 'build-box',
      status: 'exited',
      image: IMAGE,
      ports: [],
      address: '10.100.42.3',
      exitCode: 3,
      restarts: 0,
    });
  });

  it('reads the exit code from the Status text only when it says Exited', () => {
    expect(nodeStateFromList(listEntry({ State: 'running', Status: 'Up 5 minutes' })).exitCode).toBeUndefined();
    expect(nodeStateFromList(listEntry({ State: 'exited', Status: 'Exited (0) 3 hours ago' })).exitCode).toBe(0);
  });

  it('maps Podman\'s list states "configured" and "stopped"', () => {
    expect(nodeStateFromList(listEntry({ State: 'configured', Status: 'Created' })).status).toBe('created');
    expect(nodeStateFromList(listEntry({ State: 'stopped' })).status).toBe('exited');
  });

  it('keeps published ports only, an empty IP as 0.0.0.0 and udp as udp', () => {
    const entry = listEntry({
      State: 'running',
      Status: 'Up 1 second',
      Ports: [
        { IP: '127.0.0.1', PrivatePort: 6443, PublicPort: 6443, Type: 'tcp' },
        { IP: '', PrivatePort: 8472, PublicPort: 18472, Type: 'udp' },
        { PrivatePort: 10250, Type: 'tcp' },
      ],
    });
    expect(nodeStateFromList(entry).ports).toEqual([
      { hostAddress: '127.0.0.1', hostPort: 6443, containerPort: 6443, protocol: 'tcp' },
      { hostAddress: '0.0.0.0', hostPort: 18472, containerPort: 8472, protocol: 'udp' },
    ]);
  });

  it('makes an entry without rootlet labels a worker on the local host', () => {
    const state = nodeStateFromList(listEntry({ Labels: {} }));
    expect(state).toMatchObject({ cluster: '', role: 'worker', hostId: 'local' });
  });

  it('has no address without network settings', () => {
    const entry = listEntry() as unknown as ListShape;
    delete entry.NetworkSettings;
    expect(nodeStateFromList(entry as unknown as ContainerInfo).address).toBeUndefined();
  });
});
