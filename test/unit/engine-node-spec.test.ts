import { describe, expect, it } from 'vitest';
import { nodeContainerSpec, nodeVolumeSpec, type NodeCreateOptions } from '../../src/engine/node-spec.js';
import type { ClusterSettings, EngineInfo, NodeSpec } from '../../src/engine/types.js';

/** As podmanEngineInfo maps test/fixtures/engines/podman-4.3-libpod-info.json. */
const PODMAN: EngineInfo = {
  kind: 'podman',
  version: '4.3.1',
  rootless: true,
  cgroupVersion: 1,
  cgroupDriver: 'cgroupfs',
  controllers: [],
  rootlessNetwork: 'slirp4netns',
  networkBackend: 'cni',
  storageDriver: 'overlay',
  socket: '/run/user/1000/podman/podman.sock',
};

/** As dockerEngineInfo maps test/fixtures/engines/docker-20.10-rootless-info.json. */
const DOCKER: EngineInfo = {
  kind: 'docker',
  version: '20.10.24',
  rootless: true,
  cgroupVersion: 1,
  cgroupDriver: 'none',
  controllers: undefined,
  rootlessNetwork: 'rootlesskit',
  networkBackend: 'bridge',
  storageDriver: 'overlay2',
  socket: '/run/user/1000/docker.sock',
};

const ROOTFUL_DOCKER: EngineInfo = { ...DOCKER, rootless: false, rootlessNetwork: 'host', cgroupVersion: 2, cgroupDriver: 'systemd' };

const CLUSTER: ClusterSettings = { name: 'demo', image: 'ghcr.io/rootlet/node:v1.33.1', network: 'rootlet-demo' };

const CONTROL_PLANE: NodeSpec = {
  name: 'demo-control-plane',
  role: 'control-plane',
  hostId: 'local',
  ports: [
    { hostAddress: '127.0.0.1', hostPort: 6443, containerPort: 6443, protocol: 'tcp' },
    { hostAddress: '127.0.0.1', hostPort: 10250, containerPort: 10250, protocol: 'tcp' },
    { hostAddress: '127.0.0.1', hostPort: 8472, containerPort: 8472, protocol: 'udp' },
  ],
  nofileLimit: 20000,
};

const WORKER: NodeSpec = {
  name: 'demo-worker-1',
  role: 'worker',
  hostId: 'build-box',
  ports: [],
  env: { HTTP_PROXY: 'http://proxy:3128' },
  mounts: [{ source: '/home/alice/registry-certs', target: '/usr/local/share/ca-certificates/registry', readOnly: true }],
};

const ENGINES = { podman: PODMAN, docker: DOCKER } as const;
const ROLES = { 'control-plane': CONTROL_PLANE, worker: WORKER } as const;

function binds(spec: NodeCreateOptions): string[] {
  return spec.HostConfig.Binds ?? [];
}

function bindTargets(spec: NodeCreateOptions): string[] {
  return binds(spec).map((bind) => bind.split(':')[1]!);
}

function envOf(spec: NodeCreateOptions): Record<string, string> {
  return Object.fromEntries((spec.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

describe('nodeContainerSpec golden files', () => {
  for (const [engineName, engine] of Object.entries(ENGINES)) {
    for (const [roleName, node] of Object.entries(ROLES)) {
      it(`matches the golden ${engineName} ${roleName}`, async () => {
        const spec = nodeContainerSpec(CLUSTER, node, engine);
        await expect(JSON.stringify(spec, null, 2)).toMatchFileSnapshot(`../golden/engine/node-spec.${engineName}.${roleName}.json`);
      });
    }
  }
});

describe('nodeContainerSpec per engine', () => {
  it('gives Podman container=podman in the env and mounts its /var volume suid,exec,dev', () => {
    const spec = nodeContainerSpec(CLUSTER, WORKER, PODMAN);
    expect(spec.Env).toContain('container=podman');
    expect(binds(spec)[0]).toBe('demo-worker-1-var:/var:suid,exec,dev');
    expect(spec.HostConfig.SecurityOpt).toBeUndefined();
    expect(spec.HostConfig.Init).toBeUndefined();
  });

  it('gives Docker unconfined seccomp and AppArmor, no init, and a plain /var volume', () => {
    const spec = nodeContainerSpec(CLUSTER, WORKER, DOCKER);
    expect(spec.HostConfig.SecurityOpt).toEqual(['seccomp=unconfined', 'apparmor=unconfined']);
    expect(spec.HostConfig.Init).toBe(false);
    expect(binds(spec)[0]).toBe('demo-worker-1-var:/var');
    expect(Object.keys(envOf(spec))).not.toContain('container');
  });

  for (const [engineName, engine] of Object.entries(ENGINES)) {
    describe(`on ${engineName}`, () => {
      it('restarts always, so a node survives a reboot of the host', () => {
        for (const node of [CONTROL_PLANE, WORKER]) expect(nodeContainerSpec(CLUSTER, node, engine).HostConfig.RestartPolicy).toEqual({ Name: 'always' });
      });

      it('runs in a private cgroup namespace, privileged, on the cluster network', () => {
        const spec = nodeContainerSpec(CLUSTER, CONTROL_PLANE, engine);
        expect(spec.HostConfig.CgroupnsMode).toBe('private');
        expect(spec.HostConfig.Privileged).toBe(true);
        expect(spec.HostConfig.NetworkMode).toBe('rootlet-demo');
        expect(spec.Image).toBe('ghcr.io/rootlet/node:v1.33.1');
      });

      it('mounts nothing over /etc or /opt, where stale copies would shadow a new image', () => {
        for (const node of [CONTROL_PLANE, WORKER]) {
          for (const target of bindTargets(nodeContainerSpec(CLUSTER, node, engine))) expect(target).not.toMatch(/^\/(etc|opt)(\/|$)/);
        }
      });

      it('publishes the control-plane ports on the address the spec names and never etcd', () => {
        const spec = nodeContainerSpec(CLUSTER, CONTROL_PLANE, engine);
        expect(Object.keys(spec.ExposedPorts ?? {})).toEqual(['6443/tcp', '10250/tcp', '8472/udp']);
        expect(spec.HostConfig.PortBindings).toEqual({
          '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '6443' }],
          '10250/tcp': [{ HostIp: '127.0.0.1', HostPort: '10250' }],
          '8472/udp': [{ HostIp: '127.0.0.1', HostPort: '8472' }],
        });
        expect(Object.keys(spec.HostConfig.PortBindings as object).join(' ')).not.toMatch(/\b2379\//);
      });

      it('publishes nothing for a worker without ports', () => {
        const spec = nodeContainerSpec(CLUSTER, WORKER, engine);
        expect(spec.ExposedPorts).toEqual({});
        expect(spec.HostConfig.PortBindings).toEqual({});
      });

      it('sets KUBECONFIG on the control-plane only', () => {
        expect(envOf(nodeContainerSpec(CLUSTER, CONTROL_PLANE, engine)).KUBECONFIG).toBe('/etc/kubernetes/admin.conf');
        expect(Object.keys(envOf(nodeContainerSpec(CLUSTER, WORKER, engine)))).not.toContain('KUBECONFIG');
      });

      it('passes the node env and extra mounts through, read-only ones with :ro', () => {
        const spec = nodeContainerSpec(CLUSTER, WORKER, engine);
        expect(envOf(spec).HTTP_PROXY).toBe('http://proxy:3128');
        expect(binds(spec)).toContain('/home/alice/registry-certs:/usr/local/share/ca-certificates/registry:ro');
      });

      it('labels the container with its cluster, role, host and node', () => {
        expect(nodeContainerSpec(CLUSTER, WORKER, engine).Labels).toEqual({
          'dev.rootlet.cluster': 'demo',
          'dev.rootlet.role': 'worker',
          'dev.rootlet.host': 'build-box',
          'dev.rootlet.node': 'demo-worker-1',
        });
      });

      it('mounts /lib/modules read-only unless the host has none', () => {
        expect(binds(nodeContainerSpec(CLUSTER, WORKER, engine))).toContain('/lib/modules:/lib/modules:ro');
        expect(binds(nodeContainerSpec(CLUSTER, { ...WORKER, libModules: true }, engine))).toContain('/lib/modules:/lib/modules:ro');
        expect(bindTargets(nodeContainerSpec(CLUSTER, { ...WORKER, libModules: false }, engine))).not.toContain('/lib/modules');
      });
    });
  }
});

describe('nodeContainerSpec limits and devices', () => {
  function ulimits(nofileLimit: number | undefined) {
    return nodeContainerSpec(CLUSTER, { ...WORKER, nofileLimit }, DOCKER).HostConfig.Ulimits;
  }

  it('sets nofile to the host limit when it is below the engine default of 1048576', () => {
    expect(ulimits(20000)).toEqual([{ Name: 'nofile', Soft: 20000, Hard: 20000 }]);
    expect(ulimits(1048575)).toEqual([{ Name: 'nofile', Soft: 1048575, Hard: 1048575 }]);
  });

  it('leaves nofile to the engine at or above 1048576, or when no limit is given', () => {
    expect(ulimits(1048576)).toBeUndefined();
    expect(ulimits(2097152)).toBeUndefined();
    expect(ulimits(undefined)).toBeUndefined();
  });

  it('passes /dev/fuse through on a rootless engine only', () => {
    const fuse = [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }];
    expect(nodeContainerSpec(CLUSTER, WORKER, DOCKER).HostConfig.Devices).toEqual(fuse);
    expect(nodeContainerSpec(CLUSTER, WORKER, PODMAN).HostConfig.Devices).toEqual(fuse);
    expect(nodeContainerSpec(CLUSTER, WORKER, ROOTFUL_DOCKER).HostConfig.Devices).toBeUndefined();
    expect(nodeContainerSpec(CLUSTER, WORKER, { ...PODMAN, rootless: false }).HostConfig.Devices).toBeUndefined();
  });
});

describe('nodeVolumeSpec', () => {
  it('names the volume <node>-var and labels it like the container', () => {
    for (const node of [CONTROL_PLANE, WORKER]) {
      const volume = nodeVolumeSpec(CLUSTER, node);
      expect(volume.Name).toBe(`${node.name}-var`);
      expect(volume.Labels).toEqual(nodeContainerSpec(CLUSTER, node, PODMAN).Labels);
    }
    expect(nodeVolumeSpec(CLUSTER, CONTROL_PLANE).Labels).toMatchObject({ 'dev.rootlet.role': 'control-plane', 'dev.rootlet.node': 'demo-control-plane' });
  });

  it('is the volume the container mounts at /var', () => {
    const volume = nodeVolumeSpec(CLUSTER, WORKER);
    expect(binds(nodeContainerSpec(CLUSTER, WORKER, DOCKER))).toContain(`${volume.Name}:/var`);
  });
});
