import { describe, expect, it } from 'vitest';
import { nodeContainerSpec, nodeVolumeSpec, type NodeCreateRequest } from '../../src/engine/node-spec.js';
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
  address: '10.200.7.2',
  hosts: { 'demo-control-plane': '10.200.7.2' },
};

const WORKER: NodeSpec = {
  name: 'demo-worker-1',
  role: 'worker',
  hostId: 'build-box',
  ports: [],
  env: { HTTP_PROXY: 'http://proxy:3128' },
  mounts: [{ source: '/home/alice/registry-certs', target: '/usr/local/share/ca-certificates/registry', readOnly: true }],
  hosts: { 'demo-control-plane': '10.200.7.2' },
};

/** A control plane from a cluster file with nodes.extraPortMappings and nodes.extraMounts, as `up` builds it. */
const WITH_EXTRAS: NodeSpec = {
  ...CONTROL_PLANE,
  ports: [
    { hostAddress: '127.0.0.1', hostPort: 6443, containerPort: 6443, protocol: 'tcp' },
    { hostAddress: '127.0.0.1', hostPort: 8080, containerPort: 30080, protocol: 'tcp' },
    { hostAddress: '0.0.0.0', hostPort: 5353, containerPort: 30053, protocol: 'udp' },
  ],
  mounts: [
    { source: '/home/alice/data', target: '/data', readOnly: false },
    { source: '/home/alice/certs', target: '/etc/containerd/certs.d', readOnly: true },
    { source: '/srv/volumes', target: '/mnt/volumes', readOnly: false, propagation: 'rslave' },
    { source: '/srv/shared-ro', target: '/mnt/shared', readOnly: true, propagation: 'rslave' },
  ],
};

const ENGINES = { podman: PODMAN, docker: DOCKER } as const;
const ROLES = { 'control-plane': CONTROL_PLANE, worker: WORKER, 'control-plane-extras': WITH_EXTRAS } as const;

interface View {
  image: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  privileged: boolean;
  restart: string;
  cgroupns: string;
  network: string;
  tmpfs: string[];
  /** "source:target[:ro][,rslave]" for binds, "volume:/var(options)" for the named volume. */
  binds: string[];
  ports: string[];
  devices: string[];
  nofile: number | undefined;
}

/** Both engines' create requests read the same way, so every rule is asserted for each. */
function view(request: NodeCreateRequest): View {
  if (request.api === 'libpod') {
    const spec = request.body;
    return {
      image: spec.image,
      labels: spec.labels,
      env: spec.env,
      privileged: spec.privileged,
      restart: spec.restart_policy,
      cgroupns: spec.cgroupns.nsmode,
      network: Object.keys(spec.Networks).join(','),
      tmpfs: spec.mounts.filter((mount) => mount.type === 'tmpfs').map((mount) => mount.destination),
      binds: [
        ...spec.volumes.map((volume) => `${volume.Name}:${volume.Dest}(${volume.Options.join(',')})`),
        ...spec.mounts
          .filter((mount) => mount.type === 'bind')
          .map((mount) => {
            const modes = mount.options.filter((option) => option === 'ro' || option === 'rslave');
            return `${mount.source}:${mount.destination}${modes.length === 0 ? '' : `:${modes.join(',')}`}`;
          }),
      ],
      ports: spec.portmappings.map((port) => `${port.host_ip}:${port.host_port}->${port.container_port}/${port.protocol}`),
      devices: spec.devices.map((device) => device.path),
      nofile: spec.r_limits?.find((limit) => limit.type === 'nofile')?.hard,
    };
  }
  const spec = request.body;
  const host = spec.HostConfig;
  return {
    image: spec.Image ?? '',
    labels: spec.Labels ?? {},
    env: Object.fromEntries((spec.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)])),
    privileged: host.Privileged === true,
    restart: host.RestartPolicy?.Name ?? '',
    cgroupns: host.CgroupnsMode,
    network: host.NetworkMode ?? '',
    tmpfs: host.Tmpfs ? Object.keys(host.Tmpfs) : [],
    binds: (host.Binds ?? []).map((bind) => (bind.split(':')[1] === '/var' ? `${bind.split(':')[0]}:/var()` : bind)),
    ports: Object.entries((host.PortBindings ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }>>).flatMap(([key, hosts]) =>
      hosts.map((binding) => `${binding.HostIp}:${binding.HostPort}->${key}`),
    ),
    devices: ((host.Devices ?? []) as Array<{ PathOnHost?: string }>).map((device) => device.PathOnHost ?? ''),
    nofile: host.Ulimits?.find((limit) => limit.Name === 'nofile')?.Hard,
  };
}

const spec = (node: NodeSpec, engine: EngineInfo) => view(nodeContainerSpec(CLUSTER, node, engine));

describe('nodeContainerSpec golden files', () => {
  for (const [engineName, engine] of Object.entries(ENGINES)) {
    for (const [roleName, node] of Object.entries(ROLES)) {
      it(`matches the golden ${engineName} ${roleName}`, async () => {
        await expect(JSON.stringify(nodeContainerSpec(CLUSTER, node, engine), null, 2)).toMatchFileSnapshot(
          `../golden/engine/node-spec.${engineName}.${roleName}.json`,
        );
      });
    }
  }
});

describe('nodeContainerSpec per engine', () => {
  it('creates Podman nodes through its own API, which keeps the cgroup namespace and limits its compat API drops', () => {
    const request = nodeContainerSpec(CLUSTER, CONTROL_PLANE, PODMAN);
    expect(request.api).toBe('libpod');
    expect(spec(WORKER, PODMAN).env.container).toBe('podman');
    expect(spec(WORKER, PODMAN).binds[0]).toBe('demo-worker-1-var:/var(suid,exec,dev)');
  });

  it('gives Docker unconfined seccomp and AppArmor, no init, and a plain /var volume', () => {
    const request = nodeContainerSpec(CLUSTER, WORKER, DOCKER);
    expect(request.api).toBe('docker');
    if (request.api !== 'docker') return;
    expect(request.body.HostConfig.SecurityOpt).toEqual(['seccomp=unconfined', 'apparmor=unconfined']);
    expect(request.body.HostConfig.Init).toBe(false);
    expect(spec(WORKER, DOCKER).binds[0]).toBe('demo-worker-1-var:/var()');
    expect(Object.keys(spec(WORKER, DOCKER).env)).not.toContain('container');
  });

  it('gives a node its fixed address and /etc/hosts entries on both engines', () => {
    const podman = nodeContainerSpec(CLUSTER, CONTROL_PLANE, PODMAN);
    if (podman.api !== 'libpod') throw new Error('expected the libpod API');
    expect(podman.body.Networks).toEqual({ 'rootlet-demo': { static_ips: ['10.200.7.2'] } });
    expect(podman.body.hostadd).toEqual(['demo-control-plane:10.200.7.2']);
    const docker = nodeContainerSpec(CLUSTER, CONTROL_PLANE, DOCKER);
    if (docker.api !== 'docker') throw new Error('expected the Docker API');
    expect(docker.body.NetworkingConfig).toEqual({ EndpointsConfig: { 'rootlet-demo': { IPAMConfig: { IPv4Address: '10.200.7.2' } } } });
    expect(docker.body.HostConfig.ExtraHosts).toEqual(['demo-control-plane:10.200.7.2']);
    // Without a fixed address the engine picks one.
    const worker = nodeContainerSpec(CLUSTER, WORKER, DOCKER);
    expect(worker.api === 'docker' && worker.body.NetworkingConfig).toBeUndefined();
  });

  it('refuses to publish etcd', () => {
    const node = {
      ...CONTROL_PLANE,
      ports: [...CONTROL_PLANE.ports, { hostAddress: '127.0.0.1', hostPort: 2379, containerPort: 2379, protocol: 'tcp' as const }],
    };
    expect(() => nodeContainerSpec(CLUSTER, node, DOCKER)).toThrow(/etcd is never published/);
  });

  for (const [engineName, engine] of Object.entries(ENGINES)) {
    describe(`on ${engineName}`, () => {
      it('restarts always, so a node survives a reboot of the host', () => {
        for (const node of [CONTROL_PLANE, WORKER]) expect(spec(node, engine).restart).toBe('always');
      });

      it('runs in a private cgroup namespace, privileged, on the cluster network, with tmpfs /run and /tmp', () => {
        const view = spec(CONTROL_PLANE, engine);
        expect(view).toMatchObject({ cgroupns: 'private', privileged: true, network: 'rootlet-demo', image: 'ghcr.io/rootlet/node:v1.33.1' });
        expect(view.tmpfs.sort()).toEqual(['/run', '/tmp']);
      });

      it('mounts nothing over /etc or /opt, where stale copies would shadow a new image', () => {
        for (const node of [CONTROL_PLANE, WORKER])
          for (const bind of spec(node, engine).binds) expect(bind.split(':')[1]).not.toMatch(/^\/(etc|opt)(\/|$|\()/);
      });

      it('publishes the control-plane ports on the address the spec names and never etcd', () => {
        expect(spec(CONTROL_PLANE, engine).ports).toEqual(['127.0.0.1:6443->6443/tcp', '127.0.0.1:10250->10250/tcp', '127.0.0.1:8472->8472/udp']);
      });

      it('publishes one port on several host addresses (loopback for kubectl, the host address for other hosts)', () => {
        const twice: NodeSpec = {
          ...CONTROL_PLANE,
          ports: [
            { hostAddress: '127.0.0.1', hostPort: 6443, containerPort: 6443, protocol: 'tcp' },
            { hostAddress: '192.168.1.10', hostPort: 6443, containerPort: 6443, protocol: 'tcp' },
            { hostAddress: '192.168.1.10', hostPort: 8472, containerPort: 8472, protocol: 'udp' },
          ],
        };
        expect(spec(twice, engine).ports).toEqual(['127.0.0.1:6443->6443/tcp', '192.168.1.10:6443->6443/tcp', '192.168.1.10:8472->8472/udp']);
      });

      it('publishes nothing for a worker without ports', () => {
        expect(spec(WORKER, engine).ports).toEqual([]);
      });

      it('sets KUBECONFIG on the control-plane only', () => {
        expect(spec(CONTROL_PLANE, engine).env.KUBECONFIG).toBe('/etc/kubernetes/admin.conf');
        expect(Object.keys(spec(WORKER, engine).env)).not.toContain('KUBECONFIG');
      });

      it('passes the node env and extra mounts through, read-only ones read-only', () => {
        const view = spec(WORKER, engine);
        expect(view.env.HTTP_PROXY).toBe('http://proxy:3128');
        expect(view.binds).toContain('/home/alice/registry-certs:/usr/local/share/ca-certificates/registry:ro');
      });

      it("publishes the cluster file's extra ports on the address each names, beside the API server", () => {
        expect(spec(WITH_EXTRAS, engine).ports).toEqual(['127.0.0.1:6443->6443/tcp', '127.0.0.1:8080->30080/tcp', '0.0.0.0:5353->30053/udp']);
      });

      it("bind-mounts the cluster file's extra mounts: read-only ones read-only, hostToContainer ones rslave", () => {
        expect(spec(WITH_EXTRAS, engine).binds.slice(-4)).toEqual([
          '/home/alice/data:/data',
          '/home/alice/certs:/etc/containerd/certs.d:ro',
          '/srv/volumes:/mnt/volumes:rslave',
          '/srv/shared-ro:/mnt/shared:ro,rslave',
        ]);
      });

      it('labels the container with its cluster, role, host and node', () => {
        expect(spec(WORKER, engine).labels).toEqual({
          'dev.rootlet.cluster': 'demo',
          'dev.rootlet.role': 'worker',
          'dev.rootlet.host': 'build-box',
          'dev.rootlet.node': 'demo-worker-1',
        });
      });

      it('mounts /lib/modules read-only unless the host has none', () => {
        expect(spec(WORKER, engine).binds).toContain('/lib/modules:/lib/modules:ro');
        expect(spec({ ...WORKER, libModules: true }, engine).binds).toContain('/lib/modules:/lib/modules:ro');
        expect(spec({ ...WORKER, libModules: false }, engine).binds.join(' ')).not.toContain('/lib/modules');
      });

      it('sets nofile to the host limit only when it is below the engine default of 1048576', () => {
        expect(spec({ ...WORKER, nofileLimit: 20000 }, engine).nofile).toBe(20000);
        expect(spec({ ...WORKER, nofileLimit: 1048575 }, engine).nofile).toBe(1048575);
        for (const nofileLimit of [1048576, 2097152, undefined]) expect(spec({ ...WORKER, nofileLimit }, engine).nofile).toBeUndefined();
      });

      it('passes /dev/fuse through on a rootless engine only', () => {
        expect(spec(WORKER, engine).devices).toEqual(['/dev/fuse']);
        expect(spec(WORKER, { ...engine, rootless: false }).devices).toEqual([]);
      });
    });
  }
});

describe('nodeVolumeSpec', () => {
  it('names the volume <node>-var and labels it like the container', () => {
    for (const node of [CONTROL_PLANE, WORKER]) {
      const volume = nodeVolumeSpec(CLUSTER, node);
      expect(volume.Name).toBe(`${node.name}-var`);
      expect(volume.Labels).toEqual(spec(node, PODMAN).labels);
    }
    expect(nodeVolumeSpec(CLUSTER, CONTROL_PLANE).Labels).toMatchObject({ 'dev.rootlet.role': 'control-plane', 'dev.rootlet.node': 'demo-control-plane' });
  });

  it('is the volume the container mounts at /var on both engines', () => {
    const volume = nodeVolumeSpec(CLUSTER, WORKER);
    for (const engine of [PODMAN, DOCKER]) expect(spec(WORKER, engine).binds[0]).toMatch(new RegExp(`^${volume.Name}:/var\\(`));
  });
});
