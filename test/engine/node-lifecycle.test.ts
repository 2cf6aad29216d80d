import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { launchNodes } from '../../src/engine/launch.js';
import { defaultNodeImage, defaultNodeImageRecipe, ensureImage } from '../../src/engine/node-image.js';
import { chooseSubnet, overlaps } from '../../src/engine/subnet.js';
import type { ClusterSettings, EngineKind, NodeSpec } from '../../src/engine/types.js';
import { waitForNode } from '../../src/engine/wait-node.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { freePort, listeners } from '../support/ports.js';
import { ensureStandinImage, standinContext } from '../support/standin-image.js';

const sockets = engineSockets();
const kinds = (['podman', 'docker'] as const).filter((kind) => sockets[kind]);
for (const missing of (['podman', 'docker'] as const).filter((kind) => !sockets[kind])) {
  // Loud and counted: scripts/test-summary.mjs fails CI on this skip.
  console.warn(MISSING_ENGINES);
  it.skip(`rootless ${missing}: ${MISSING_ENGINES}`, () => undefined);
}

const run = `t${process.pid.toString(36)}`;
/** This machine's kernel has no module support and no /lib/modules; real hosts have one. */
const libModules = existsSync('/lib/modules');

describe.each(kinds)('node containers on rootless %s', (kind: EngineKind) => {
  let engine: Engine;
  let raw: Docker;
  let image: string;
  const clusters: string[] = [];

  function cluster(name: string): ClusterSettings {
    const full = `${run}-${kind.slice(0, 1)}-${name}`;
    clusters.push(full);
    return { name: full, image, network: `rootlet-${full}` };
  }

  async function cleanup(settings: ClusterSettings): Promise<void> {
    for (const node of await engine.listNodes(settings.name)) await engine.removeNode(node.name);
    await engine.removeNetwork(settings.network);
  }

  beforeAll(async () => {
    engine = await testEngine(kind, sockets[kind]!);
    raw = new Docker({ socketPath: sockets[kind]! });
    image = await ensureStandinImage(engine);
  }, 120_000);

  afterAll(async () => {
    for (const name of clusters) await cleanup({ name, image, network: `rootlet-${name}` }).catch(() => undefined);
  });

  describe('node images', () => {
    it('has an image that is present, and builds one from its recipe', async () => {
      expect(await ensureImage(engine, image, undefined)).toBe('present');
      const { context } = await standinContext();
      const rebuilt = `localhost/rootlet-standin-rebuilt:${run}`;
      try {
        expect(await ensureImage(engine, rebuilt, { context: async () => context })).toBe('built');
        expect(await engine.hasImage(rebuilt)).toBe(true);
      } finally {
        await raw
          .getImage(rebuilt)
          .remove({ force: true })
          .catch(() => undefined);
      }
    });

    it('says what to do when the default node image cannot be had (no registry here)', async () => {
      const started = Date.now();
      const failure = ensureImage(engine, defaultNodeImage(), await defaultNodeImageRecipe());
      await expect(failure).rejects.toMatchObject({ code: 'image-unavailable', exitCode: 1 });
      await expect(failure).rejects.toThrow(
        new RegExp(
          `^node image ${defaultNodeImage()} is not on ${kind === 'podman' ? 'Podman' : 'Docker'} at \\S+ and could not be built from docker.io/kindest/node:v1.37.0@sha256:a1ed`,
        ),
      );
      await expect(failure).rejects.toMatchObject({ hint: expect.stringContaining(`${kind} save IMAGE | ${kind} load`) as unknown });
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(await engine.hasImage(defaultNodeImage())).toBe(false);
    });

    it('pulls an image that is not rootlet’s own, and says so when the registry cannot be reached', async () => {
      await expect(ensureImage(engine, 'docker.io/library/busybox:1.36.1', undefined)).rejects.toThrow(/could not be pulled/);
    });
  });

  it('probes the engine as rootless, with a supported version', () => {
    expect(engine.info.kind).toBe(kind);
    expect(engine.info.rootless).toBe(true);
    expect(engine.info.rootlessNetwork).toBe(kind === 'podman' ? 'slirp4netns' : 'rootlesskit');
  });

  it('launches two nodes concurrently with every setting of the node spec in effect', async () => {
    const settings = cluster('spec');
    const apiPort = await freePort();
    const udpPort = await freePort();
    const nodes: NodeSpec[] = [
      {
        name: `${settings.name}-control-plane`,
        role: 'control-plane',
        hostId: 'local',
        ports: [
          { hostAddress: '127.0.0.1', hostPort: apiPort, containerPort: 6443, protocol: 'tcp' },
          { hostAddress: '127.0.0.1', hostPort: udpPort, containerPort: 8472, protocol: 'udp' },
        ],
        nofileLimit: 1024,
        libModules,
      },
      { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [] },
    ];
    const taken = await engine.networkSubnets();
    const states = await launchNodes(engine, settings, nodes, { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 });
    expect(states.map((state) => [state.name, state.role, state.status])).toEqual([
      [`${settings.name}-control-plane`, 'control-plane', 'running'],
      [`${settings.name}-worker`, 'worker', 'running'],
    ]);

    const network = (await raw.getNetwork(settings.network).inspect()) as { IPAM: { Config: Array<{ Subnet: string }> } };
    const subnet = network.IPAM.Config[0]!.Subnet;
    expect(taken.some((other) => overlaps(other, subnet))).toBe(false);
    expect(states[0]!.address && overlaps(`${states[0]!.address}/32`, subnet)).toBe(true);

    const inspect = await raw.getContainer(nodes[0]!.name).inspect();
    const host = inspect.HostConfig as typeof inspect.HostConfig & { CgroupnsMode?: string; Tmpfs?: Record<string, string> };
    expect(inspect.Config.Hostname).toBe(nodes[0]!.name);
    expect(inspect.Config.Labels).toMatchObject({ 'dev.rootlet.cluster': settings.name, 'dev.rootlet.role': 'control-plane', 'dev.rootlet.host': 'local' });
    expect(host.Privileged).toBe(true);
    expect(Object.keys(host.Tmpfs ?? {}).sort()).toEqual(['/run', '/tmp']);
    expect(host.RestartPolicy?.Name).toBe('always');
    expect(host.PortBindings).toMatchObject({
      '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: String(apiPort) }],
      '8472/udp': [{ HostIp: '127.0.0.1', HostPort: String(udpPort) }],
    });
    expect(Object.keys((host.PortBindings ?? {}) as Record<string, unknown>)).not.toContain('2379/tcp');
    expect(host.Ulimits).toEqual(expect.arrayContaining([{ Name: kind === 'podman' ? 'RLIMIT_NOFILE' : 'nofile', Soft: 1024, Hard: 1024 }]));
    const varMount = inspect.Mounts.find((mount) => mount.Destination === '/var')!;
    expect(varMount).toMatchObject({ Type: 'volume', Name: `${nodes[0]!.name}-var` });
    if (libModules) expect(inspect.Mounts.find((mount) => mount.Destination === '/lib/modules')).toMatchObject({ RW: false });
    else expect(inspect.Mounts.map((mount) => mount.Destination)).not.toContain('/lib/modules');
    expect(inspect.Mounts.map((mount) => mount.Destination)).not.toContain('/etc');
    expect(inspect.Config.Env).toEqual(
      expect.arrayContaining(kind === 'podman' ? ['container=podman', 'KUBECONFIG=/etc/kubernetes/admin.conf'] : ['KUBECONFIG=/etc/kubernetes/admin.conf']),
    );

    // What only the inside can tell: a private cgroup namespace (Podman 4.3 leaves CgroupnsMode empty in inspect),
    // tmpfs mounts, /var on the volume, the sysctl, /dev/fuse and the open-files limit.
    const inside = async (argv: string[]) => (await engine.exec(nodes[0]!.name, argv)).stdout.trim();
    // Podman nodes are created through its libpod API: its compat API drops CgroupnsMode (and inspect leaves it empty).
    expect(await inside(['readlink', '/proc/1/ns/cgroup'])).not.toBe(await readlink('/proc/self/ns/cgroup'));
    if (kind === 'docker') expect(host.CgroupnsMode).toBe('private');
    const mounts = await inside(['cat', '/proc/mounts']);
    expect(mounts).toMatch(/^tmpfs \/run tmpfs /m);
    expect(mounts).toMatch(/^tmpfs \/tmp tmpfs /m);
    expect(mounts).toMatch(/ \/var \S+ (?!.*\bnoexec\b)(?!.*\bnosuid\b)(?!.*\bnodev\b)/m);
    expect(await inside(['cat', '/proc/sys/net/ipv4/ip_forward'])).toBe('1');
    expect(await inside(['sh', '-c', 'test -c /dev/fuse && echo fuse'])).toBe('fuse');
    expect(await inside(['sh', '-c', 'ulimit -Hn'])).toBe('1024');

    // Published ports bind the address asked for, on the host, and nothing else.
    expect((await listeners(apiPort)).filter((socket) => socket.startsWith('tcp'))).toEqual([
      `tcp 0100007F:${apiPort.toString(16).toUpperCase().padStart(4, '0')}`,
    ]);

    expect((await engine.listNodes(settings.name)).map((node) => node.name)).toEqual(nodes.map((node) => node.name));
    expect(await engine.listNodes(`${settings.name}-other`)).toEqual([]);
  });

  it("mounts the cluster file's host paths into a node and publishes an extra port on 127.0.0.1 only", async () => {
    const settings = cluster('extra');
    // The engine's own user reads it: a directory anyone may enter, a file anyone may read.
    const dir = await mkdtemp(path.join(os.tmpdir(), `rootlet-${run}-mount-`));
    await chmod(dir, 0o755);
    await writeFile(path.join(dir, 'hello.txt'), 'from the host\n', { mode: 0o644 });
    const port = await freePort();
    const node: NodeSpec = {
      name: `${settings.name}-control-plane`,
      role: 'control-plane',
      hostId: 'local',
      libModules,
      ports: [{ hostAddress: '127.0.0.1', hostPort: port, containerPort: 30080, protocol: 'tcp' }],
      mounts: [
        { source: dir, target: '/mnt/host', readOnly: true },
        { source: path.join(dir, 'hello.txt'), target: '/etc/rootlet-hello', readOnly: false },
      ],
    };
    try {
      await launchNodes(engine, settings, [node], { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 });
      const inside = (argv: string[]) => engine.exec(node.name, argv);
      expect((await inside(['cat', '/mnt/host/hello.txt'])).stdout).toBe('from the host\n');
      expect((await inside(['cat', '/etc/rootlet-hello'])).stdout).toBe('from the host\n');
      expect((await inside(['touch', '/mnt/host/written'])).exitCode).not.toBe(0);

      const inspect = await raw.getContainer(node.name).inspect();
      expect(inspect.HostConfig.PortBindings).toMatchObject({ '30080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
      expect((await engine.inspectNode(node.name))!.ports).toContainEqual({ hostAddress: '127.0.0.1', hostPort: port, containerPort: 30080, protocol: 'tcp' });
      expect((await listeners(port)).filter((socket) => socket.startsWith('tcp'))).toEqual([
        `tcp 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`,
      ]);
      expect(inspect.Mounts.find((mount) => mount.Destination === '/mnt/host')).toMatchObject({ Source: dir, RW: false });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('mounts a host path with rslave propagation, or says the engine cannot and how to do without', async () => {
    const settings = cluster('rslave');
    const dir = await mkdtemp(path.join(os.tmpdir(), `rootlet-${run}-rslave-`));
    await chmod(dir, 0o755);
    const node: NodeSpec = {
      name: `${settings.name}-worker`,
      role: 'worker',
      hostId: 'local',
      libModules,
      ports: [],
      mounts: [{ source: dir, target: '/mnt/live', readOnly: false, propagation: 'rslave' }],
    };
    try {
      // Docker refuses rslave on a path whose host mount is private (this machine's / is); Podman does not check.
      const launched = await launchNodes(engine, settings, [node], { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (launched === undefined) {
        const inspect = await raw.getContainer(node.name).inspect();
        expect(inspect.Mounts.find((mount) => mount.Destination === '/mnt/live')).toMatchObject({ Source: dir, RW: true, Propagation: 'rslave' });
      } else {
        expect(launched).toMatchObject({ code: 'mount-propagation', hint: expect.stringContaining('propagation: none') as unknown });
        expect(await engine.listNodes(settings.name)).toEqual([]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('execs with argv, env and stdin, and returns the exit code and both streams', async () => {
    const settings = cluster('exec');
    const node: NodeSpec = { name: `${settings.name}-control-plane`, role: 'control-plane', hostId: 'local', libModules, ports: [] };
    await launchNodes(engine, settings, [node], { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 });
    const secret = `token-${Math.random().toString(36).slice(2)}`;
    const piped = await engine.exec(node.name, ['sh', '-c', 'read -r value; echo "got:$value:$GREETING"; echo oops >&2; exit 7'], {
      stdin: `${secret}\n`,
      env: { GREETING: 'hi' },
    });
    expect(piped).toEqual({ exitCode: 7, stdout: `got:${secret}:hi\n`, stderr: 'oops\n' });
    // Longer than any client timeout: commands in nodes (kubeadm init) run for minutes.
    expect(await engine.exec(node.name, ['sh', '-c', 'sleep 6; echo done'])).toMatchObject({ exitCode: 0, stdout: 'done\n' });
    const big = 'x'.repeat(300_000);
    const echoed = await engine.exec(node.name, ['sh', '-c', 'cat | wc -c'], { stdin: big });
    expect(echoed.stdout.trim()).toBe(String(big.length));

    // A stream on stdin (an image archive): piped through, several MB.
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 'y'));
    const streamed = await engine.exec(node.name, ['sh', '-c', 'cat | wc -c'], { stdin: Readable.from(chunks) });
    expect(streamed).toMatchObject({ exitCode: 0, stdout: `${64 * 64 * 1024}\n` });
    // A command that quits before reading it all answers with its own exit code and words, not an engine error.
    const quits = await engine.exec(node.name, ['sh', '-c', 'head -c 1 >/dev/null; echo bad archive >&2; exit 3'], { stdin: Readable.from(chunks) });
    expect(quits).toMatchObject({ exitCode: 3, stderr: expect.stringContaining('bad archive') as unknown });
    // A source that breaks midway fails the exec with the source's error, and the command is not left waiting.
    const breaking = new PassThrough();
    breaking.write(chunks[0]);
    setTimeout(() => breaking.destroy(new Error('export broke')), 300);
    await expect(engine.exec(node.name, ['sh', '-c', 'cat >/dev/null; echo read-all'], { stdin: breaking })).rejects.toThrow(/export broke/);
    // One that has failed before it is handed over, too.
    const broken = new PassThrough().on('error', () => undefined);
    broken.destroy(new Error('failed before'));
    await expect(engine.exec(node.name, ['sh', '-c', 'cat >/dev/null'], { stdin: broken })).rejects.toThrow(/failed before|premature close/i);
  });

  it('copies files in and out, and refuses tmpfs targets Docker would silently lose', async () => {
    const settings = cluster('copy');
    const node: NodeSpec = { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [] };
    await launchNodes(engine, settings, [node], { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 });
    const content = 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n';
    await engine.copyIn(node.name, '/kind/kubeadm.conf', content, 0o600);
    expect((await engine.copyOut(node.name, '/kind/kubeadm.conf')).toString()).toBe(content);
    expect((await engine.exec(node.name, ['stat', '-c', '%a', '/kind/kubeadm.conf'])).stdout.trim()).toBe('600');
    await expect(engine.copyIn(node.name, '/tmp/x', 'x')).rejects.toMatchObject({ code: 'tmpfs-target' });
    await expect(engine.copyOut(node.name, '/kind')).rejects.toMatchObject({ code: 'not-a-file' });
    await expect(engine.copyOut(node.name, '/nonexistent')).rejects.toThrow(/could not copy \/nonexistent out of node/);
  });

  it('removes nodes and their volumes, and a second removal is no error', async () => {
    const settings = cluster('remove');
    const node: NodeSpec = { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [] };
    await launchNodes(engine, settings, [node], { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 });
    await engine.removeNode(node.name);
    await engine.removeNode(node.name);
    expect(await engine.inspectNode(node.name)).toBeUndefined();
    await expect(raw.getVolume(`${node.name}-var`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await engine.removeNetwork(settings.network);
    await engine.removeNetwork(settings.network);
  });

  it('removes nodes at once even right after they start, before their PID 1 handles signals', async () => {
    const settings = cluster('quick');
    await engine.ensureNetwork(settings.network, { 'dev.rootlet.cluster': settings.name }, (inUse) => chooseSubnet(settings.name, inUse));
    const names = [0, 1, 2, 3].map((index) => `${settings.name}-worker${index}`);
    for (let round = 0; round < 3; round++) {
      await Promise.all(names.map(async (name) => engine.createNode(settings, { name, role: 'worker', hostId: 'local', libModules, ports: [] })));
      await Promise.all(names.map(async (name) => engine.startNode(name)));
      const started = Date.now();
      await Promise.all(names.map(async (name) => engine.removeNode(name)));
      // Podman's forced remove alone sends SIGTERM and waits: a PID 1 without its handler yet left nodes "stopping".
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(await engine.listNodes(settings.name)).toEqual([]);
    }
  });

  describe('failures', () => {
    it('refuses a node name taken by a container that is not a rootlet node, and leaves it alone', async () => {
      const settings = cluster('taken');
      const name = `${settings.name}-control-plane`;
      const foreign = await raw.createContainer({ name, Image: image, Labels: { owner: 'someone-else' } });
      try {
        await expect(
          launchNodes(engine, settings, [{ name, role: 'control-plane', hostId: 'local', libModules, ports: [] }], {
            chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse),
            bootTimeoutMs: 60_000,
          }),
        ).rejects.toMatchObject({
          code: 'name-taken',
          message: expect.stringContaining(`the name ${name} is taken by a container that is not a rootlet node`) as unknown,
        });
        expect((await raw.getContainer(name).inspect()).Config.Labels).toMatchObject({ owner: 'someone-else' });
        await expect(raw.getNetwork(settings.network).inspect()).rejects.toMatchObject({ statusCode: 404 });
      } finally {
        await foreign.remove({ force: true });
      }
    });

    it('names the port when it is taken, and removes every node it made', async () => {
      const settings = cluster('port');
      const port = await freePort();
      const holder: Server = createServer();
      await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
      try {
        const nodes: NodeSpec[] = [
          {
            name: `${settings.name}-control-plane`,
            role: 'control-plane',
            hostId: 'local',
            libModules,
            ports: [{ hostAddress: '127.0.0.1', hostPort: port, containerPort: 6443, protocol: 'tcp' }],
          },
          { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [] },
        ];
        const failure = launchNodes(engine, settings, nodes, { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 });
        await expect(failure).rejects.toMatchObject({ code: 'port-in-use' });
        await expect(failure).rejects.toThrow(new RegExp(`could not start node ${settings.name}-control-plane: .*${port}`));
        expect(await engine.listNodes(settings.name)).toEqual([]);
        for (const node of nodes) await expect(raw.getVolume(`${node.name}-var`).inspect()).rejects.toMatchObject({ statusCode: 404 });
        await expect(raw.getNetwork(settings.network).inspect()).rejects.toMatchObject({ statusCode: 404 });
      } finally {
        holder.close();
      }
    });

    it('reports a node that dies while booting with its last console lines, and keeps it with retain', async () => {
      const settings = cluster('dies');
      const node: NodeSpec = { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [], env: { STANDIN_FAIL_BOOT: '3' } };
      const launch = launchNodes(engine, settings, [node], {
        chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse),
        bootTimeoutMs: 60_000,
        retain: true,
      });
      await expect(launch).rejects.toMatchObject({ code: 'node-died' });
      await expect(launch).rejects.toThrow(/boot failed as asked \(exit 3\)/);
      expect((await engine.listNodes(settings.name)).map((state) => state.name)).toEqual([node.name]);
    });

    it('gives up at the deadline with what systemd last said', async () => {
      const settings = cluster('slow');
      const node: NodeSpec = { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [], env: { STANDIN_BOOT_SECONDS: '30' } };
      const launch = launchNodes(engine, settings, [node], { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 2_000 });
      await expect(launch).rejects.toMatchObject({ code: 'timeout' });
      await expect(launch).rejects.toThrow(/did not finish booting within 2 s \(systemctl is-system-running: starting\)/);
      expect(await engine.listNodes(settings.name)).toEqual([]);
      await expect(raw.getNetwork(settings.network).inspect()).rejects.toMatchObject({ statusCode: 404 });
    });

    it('says which image is missing', async () => {
      const settings = { ...cluster('noimage'), image: 'localhost/rootlet-no-such-image:1' };
      const node: NodeSpec = { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [] };
      await expect(
        launchNodes(engine, settings, [node], { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 10_000 }),
      ).rejects.toMatchObject({
        code: 'image-missing',
      });
      expect(await engine.listNodes(settings.name)).toEqual([]);
      await expect(raw.getVolume(`${node.name}-var`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    });

    it('stops waiting for the others as soon as one node dies, and removes them all', async () => {
      const settings = cluster('sibling');
      const nodes: NodeSpec[] = [
        { name: `${settings.name}-control-plane`, role: 'control-plane', hostId: 'local', libModules, ports: [], env: { STANDIN_BOOT_SECONDS: '60' } },
        { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [], env: { STANDIN_FAIL_BOOT: '4' } },
      ];
      const started = Date.now();
      const launch = launchNodes(engine, settings, nodes, { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 });
      await expect(launch).rejects.toMatchObject({ code: 'node-died', message: expect.stringContaining(`node ${settings.name}-worker`) as unknown });
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await engine.listNodes(settings.name)).toEqual([]);
    });

    it('stops when interrupted, exits 130 and leaves nothing behind', async () => {
      const settings = cluster('abort');
      const node: NodeSpec = { name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [], env: { STANDIN_BOOT_SECONDS: '60' } };
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 1500);
      const launch = launchNodes(engine, settings, [node], {
        chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse),
        bootTimeoutMs: 60_000,
        signal: controller.signal,
      });
      await expect(launch).rejects.toMatchObject({ code: 'interrupted', exitCode: 130 });
      expect(await engine.listNodes(settings.name)).toEqual([]);
      await expect(raw.getVolume(`${node.name}-var`).inspect()).rejects.toMatchObject({ statusCode: 404 });
      await expect(raw.getNetwork(settings.network).inspect()).rejects.toMatchObject({ statusCode: 404 });
    });

    it('refuses a leftover /var volume of an earlier node instead of reusing its data', async () => {
      const settings = cluster('stale');
      const node: NodeSpec = { name: `${settings.name}-control-plane`, role: 'control-plane', hostId: 'local', libModules, ports: [] };
      await raw.createVolume({ Name: `${node.name}-var` });
      try {
        const launch = launchNodes(engine, settings, [node], { chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse), bootTimeoutMs: 60_000 });
        await expect(launch).rejects.toMatchObject({
          code: 'volume-exists',
          message: expect.stringContaining(`volume ${node.name}-var for node ${node.name} already exists`) as unknown,
        });
        expect(await raw.getVolume(`${node.name}-var`).inspect()).toMatchObject({ Name: `${node.name}-var` });
        expect(await engine.listNodes(settings.name)).toEqual([]);
      } finally {
        await raw.getVolume(`${node.name}-var`).remove({ force: true });
      }
    });

    it('refuses a network of the same name that is not this cluster’s', async () => {
      const settings = cluster('foreignnet');
      await raw.createNetwork({ Name: settings.network, Labels: { owner: 'someone-else' } });
      try {
        const launch = launchNodes(engine, settings, [{ name: `${settings.name}-worker`, role: 'worker', hostId: 'local', libModules, ports: [] }], {
          chooseSubnet: (inUse) => chooseSubnet(settings.name, inUse),
          bootTimeoutMs: 60_000,
        });
        await expect(launch).rejects.toMatchObject({ code: 'network-taken' });
        expect(await raw.getNetwork(settings.network).inspect()).toMatchObject({ Name: settings.network });
      } finally {
        await raw.getNetwork(settings.network).remove();
      }
    });

    it('waits for nothing on a node that does not exist', async () => {
      await expect(waitForNode(engine, `${run}-nonexistent`, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'node-missing' });
    });
  });
});
