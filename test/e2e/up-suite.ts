/**
 * `rootlet up` -> `status` -> `kubeconfig` -> `up` again -> `down`, as the engine's own user would run it, against a
 * real rootless engine and the stand-in node image (test/node-image). While the suite runs, every process argv on
 * the machine is watched for anything shaped like a bootstrap token.
 */
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { chown } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Engine } from '../../src/engine/engine.js';
import type { EngineKind } from '../../src/engine/types.js';
import { asUser, ROOTLET } from '../support/cli.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { freePort } from '../support/ports.js';
import { ensureStandinImage } from '../support/standin-image.js';
import { watchArgvForTokens } from './argv-watch.js';

const TOKEN = /[a-z0-9]{6}\.[a-z0-9]{16}/;
/** A token-shaped string the suite plants itself, to show the watch would notice. */
const PLANTED = 'abc123.0123456789abcdef';
const USERS: Record<EngineKind, string> = { podman: 'rootlet-podman', docker: 'rootlet-docker' };
/** The machine's own non-loopback address, where a cluster reachable from other machines is published. */
const hostAddress =
  Object.values(os.networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address ?? '127.0.0.1';

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function upSuite(kind: EngineKind): void {
  const socket = engineSockets()[kind];
  if (!socket) {
    console.warn(MISSING_ENGINES);
    it.skip(`rootless ${kind}: ${MISSING_ENGINES}`, () => undefined);
    return;
  }
  const user = USERS[kind];
  const prefix = `e${process.pid.toString(36)}${kind.slice(0, 1)}`;
  let engine: Engine;
  let image: string;
  let home: string;
  let uid: number;
  const watch = watchArgvForTokens();
  const outputs: string[] = [];

  /** The built CLI as the engine's user: their uid, their runtime dir, a fresh HOME, nothing else inherited. */
  function rootlet(args: string[], { signalAfter, signalDelayMs = 0 }: { signalAfter?: RegExp; signalDelayMs?: number } = {}): Promise<Run> {
    const child: ResultPromise = execa(...asUser(user, uid, ['node', ROOTLET, ...args], { HOME: home, CI: '1' }), { reject: false, stdin: 'ignore' });
    if (signalAfter) {
      let seen = '';
      let sent = false;
      child.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        // setpriv and env exec node: the child's pid is rootlet's. One Ctrl-C, as a user presses it.
        if (!sent && signalAfter.test(seen)) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), signalDelayMs);
        }
      });
    }
    return child.then((result) => {
      const run = { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
      outputs.push(run.stdout, run.stderr);
      return run;
    });
  }

  async function nodesOf(cluster: string): Promise<string[]> {
    return (await engine.listNodes(cluster)).map((node) => node.name).sort();
  }

  beforeAll(async () => {
    engine = await testEngine(kind, socket);
    image = await ensureStandinImage(engine);
    uid = Number((await execa('id', ['-u', user])).stdout);
    home = await mkdtemp(path.join(os.tmpdir(), `rootlet-e2e-${kind}-`));
    await chown(home, uid, uid);
    watch.start();
  }, 180_000);

  afterAll(async () => {
    watch.stop();
    for (const node of await engine.listNodes()) if (node.cluster.startsWith(prefix)) await engine.removeNode(node.name).catch(() => undefined);
  });

  describe(`rootlet up on rootless ${kind} (stand-in node image)`, () => {
    const name = `${prefix}-main`;

    it('brings up a control plane and two workers, ready, with a 0600 kubeconfig', async () => {
      const up = await rootlet(['up', '--name', name, '--workers', '2', '--image', image, '--skip-doctor', '--wait', '60s', '--json']);
      expect(up.stderr).not.toMatch(/at .*\.js:\d+/);
      expect(up.exitCode, up.stderr).toBe(0);
      const result = JSON.parse(up.stdout) as {
        initialized: boolean;
        cni: string;
        kubernetesVersion: string;
        kubeconfig: string;
        context: string;
        apiServer: string;
        nodes: Array<{ name: string; action: string }>;
      };
      expect(result).toMatchObject({ initialized: true, cni: 'flannel', kubernetesVersion: 'v1.37.0', context: `rootlet-${name}` });
      expect(result.nodes.map((node) => node.name).sort()).toEqual([`${name}-control-plane`, `${name}-worker`, `${name}-worker2`]);
      expect(await nodesOf(name)).toEqual([`${name}-control-plane`, `${name}-worker`, `${name}-worker2`]);
      expect(result.kubeconfig).toBe(path.join(home, '.kube', 'config'));
      const info = await stat(result.kubeconfig);
      expect(info.mode & 0o777).toBe(0o600);
      expect(info.uid).toBe(uid);
      const kubeconfig = parseYaml(await readFile(result.kubeconfig, 'utf8')) as {
        'current-context': string;
        clusters: Array<{ name: string; cluster: { server: string } }>;
      };
      expect(kubeconfig['current-context']).toBe(`rootlet-${name}`);
      expect(kubeconfig.clusters).toEqual([{ name: `rootlet-${name}`, cluster: expect.objectContaining({ server: result.apiServer }) as unknown }]);
      expect(result.apiServer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      // The API server's port is published on 127.0.0.1 only.
      const controlPlane = await engine.inspectNode(`${name}-control-plane`);
      expect(controlPlane!.ports).toEqual([expect.objectContaining({ hostAddress: '127.0.0.1', hostPort: Number(result.apiServer.split(':')[2]) })]);
    });

    it('status shows every node Ready, the version, the CNI and whether user-namespaced pods can run', async () => {
      const status = await rootlet(['status', '--name', name, '--json']);
      expect(status.exitCode, status.stderr).toBe(0);
      const [cluster] = (JSON.parse(status.stdout) as { clusters: Array<Record<string, unknown> & { nodes: Array<{ ready: boolean }> }> }).clusters;
      expect(cluster).toMatchObject({ name, ready: true, kubernetesVersion: 'v1.37.0', cni: 'flannel' });
      expect(cluster!.nodes).toHaveLength(3);
      expect(cluster!.userNamespacedPods).toMatchObject({ enabled: true, ready: expect.any(Boolean) as unknown, reason: expect.any(String) as unknown });
      const human = await rootlet(['status', '--name', name]);
      expect(human.stdout).toContain(`${name}-worker2`);
      expect(human.stdout).toContain('Ready');
      const list = await rootlet(['ls']);
      expect(list.stdout).toContain(`${name}\tready\t3 nodes`);
    });

    it('kubeconfig prints the entry with the published server', async () => {
      const printed = await rootlet(['kubeconfig', '--name', name]);
      expect(printed.exitCode, printed.stderr).toBe(0);
      const config = parseYaml(printed.stdout) as { 'current-context': string; users: Array<{ name: string }> };
      expect(config['current-context']).toBe(`rootlet-${name}`);
      expect(config.users.map((entry) => entry.name)).toEqual([`rootlet-${name}`]);
    });

    it('up again reconciles: adds the missing worker, keeps the rest, does not repeat init', async () => {
      const again = await rootlet(['up', '--name', name, '--workers', '3', '--image', image, '--skip-doctor', '--wait', '60s', '--json']);
      expect(again.exitCode, again.stderr).toBe(0);
      const result = JSON.parse(again.stdout) as { initialized: boolean; nodes: Array<{ name: string; action: string }> };
      expect(result.initialized).toBe(false);
      expect(Object.fromEntries(result.nodes.map((node) => [node.name, node.action]))).toEqual({
        [`${name}-control-plane`]: 'kept',
        [`${name}-worker`]: 'kept',
        [`${name}-worker2`]: 'kept',
        [`${name}-worker3`]: 'created',
      });
      const status = JSON.parse((await rootlet(['status', '--name', name, '--json'])).stdout) as { clusters: Array<{ ready: boolean; nodes: unknown[] }> };
      expect(status.clusters[0]).toMatchObject({ ready: true });
      expect(status.clusters[0]!.nodes).toHaveLength(4);
    });

    it('a second cluster of the same user gets its own API server port and network, published where asked', async () => {
      const second = `${prefix}-second`;
      const up = await rootlet([
        'up',
        '--name',
        second,
        '--image',
        image,
        '--skip-doctor',
        '--wait',
        '60s',
        '--json',
        '--no-switch',
        '--api-server-address',
        hostAddress,
      ]);
      expect(up.exitCode, up.stderr).toBe(0);
      const first = JSON.parse((await rootlet(['status', '--name', name, '--json'])).stdout) as { clusters: Array<{ apiServer: string }> };
      const { apiServer } = JSON.parse(up.stdout) as { apiServer: string };
      expect(apiServer).not.toBe(first.clusters[0]!.apiServer);
      expect(apiServer.startsWith(`https://${hostAddress}:`)).toBe(true);
      const [published] = (await engine.inspectNode(`${second}-control-plane`))!.ports;
      expect(published).toMatchObject({ hostAddress, hostPort: Number(apiServer.split(':')[2]) });
      const list = await rootlet(['ls']);
      expect(list.stdout).toContain(`${second}\tready\t1 node\t`);
      expect((await rootlet(['down', '--name', second])).exitCode).toBe(0);
    });

    it("a cluster file's extra port is published on 127.0.0.1 and its extra mount is in every node", async () => {
      const extras = `${prefix}-extras`;
      const data = path.join(home, 'extras-data');
      await mkdir(data, { recursive: true });
      await writeFile(path.join(data, 'hello.txt'), 'from the host\n');
      await chown(data, uid, uid);
      await chown(path.join(data, 'hello.txt'), uid, uid);
      const port = await freePort();
      const file = path.join(home, 'extras.yaml');
      await writeFile(
        file,
        [
          'apiVersion: rootlet.dev/v1alpha1',
          'kind: Cluster',
          'workers: 1',
          'nodes:',
          `  extraPortMappings: [{containerPort: 30080, hostPort: ${port}}]`,
          '  extraMounts: [{hostPath: extras-data, containerPath: /mnt/data, readOnly: true}]',
          '',
        ].join('\n'),
      );
      const up = await rootlet(['up', '-f', file, '--name', extras, '--image', image, '--skip-doctor', '--wait', '60s', '--json', '--no-switch']);
      expect(up.exitCode, up.stderr).toBe(0);
      const controlPlane = await engine.inspectNode(`${extras}-control-plane`);
      expect(controlPlane!.ports).toContainEqual({ hostAddress: '127.0.0.1', hostPort: port, containerPort: 30080, protocol: 'tcp' });
      expect((await engine.inspectNode(`${extras}-worker`))!.ports).toEqual([]);
      for (const node of [`${extras}-control-plane`, `${extras}-worker`]) {
        expect((await engine.exec(node, ['cat', '/mnt/data/hello.txt'])).stdout).toBe('from the host\n');
        expect((await engine.exec(node, ['touch', '/mnt/data/written'])).exitCode).not.toBe(0);
      }
      // A re-run finds its API server port among the extra one.
      const again = await rootlet(['up', '-f', file, '--name', extras, '--image', image, '--skip-doctor', '--wait', '60s', '--json', '--no-switch']);
      expect(again.exitCode, again.stderr).toBe(0);
      expect((JSON.parse(again.stdout) as { apiServer: string }).apiServer).toBe((JSON.parse(up.stdout) as { apiServer: string }).apiServer);
      expect((await rootlet(['down', '--name', extras])).exitCode).toBe(0);
    });

    it('up again with other network settings is refused, naming each difference', async () => {
      const changed = await rootlet(['up', '--name', name, '--workers', '3', '--image', image, '--skip-doctor', '--cni', 'none']);
      expect(changed.exitCode, changed.stderr).toBe(2);
      expect(changed.stderr).toMatch(
        /^error: cluster \S+ was created with other settings than this run asks for\n {2}cni: created with flannel, asked for none\n/m,
      );
    });

    it('down removes every node, the volume of a worker removed by hand, the kubeconfig entry, and is idempotent', async () => {
      // A worker container removed behind rootlet's back leaves its /var volume.
      await new Docker({ socketPath: socket }).getContainer(`${name}-worker3`).remove({ force: true });
      const down = await rootlet(['down', '--name', name]);
      expect(down.exitCode, down.stderr).toBe(0);
      expect(down.stderr).toContain(`volume ${name}-worker3-var`);
      expect(await nodesOf(name)).toEqual([]);
      const volumes = (await new Docker({ socketPath: socket }).listVolumes({ filters: { label: [`dev.rootlet.cluster=${name}`] } })).Volumes ?? [];
      expect(volumes).toEqual([]);
      const kubeconfig = await readFile(path.join(home, '.kube', 'config'), 'utf8');
      expect(kubeconfig).not.toContain(`rootlet-${name}`);
      const again = await rootlet(['down', '--name', name]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toContain('already down');
    });
  });

  describe(`rootlet up failures on rootless ${kind}`, () => {
    it("down leaves a network of the same name that is not rootlet's", async () => {
      const name = `${prefix}-foreign`;
      const docker = new Docker({ socketPath: socket });
      await docker.createNetwork({ Name: `rootlet-${name}` });
      try {
        const down = await rootlet(['down', '--name', name]);
        expect(down.exitCode, down.stderr).toBe(0);
        expect((await docker.getNetwork(`rootlet-${name}`).inspect()) as unknown).toMatchObject({ Name: `rootlet-${name}` });
      } finally {
        await docker.getNetwork(`rootlet-${name}`).remove();
      }
    });

    it('refuses a host whose doctor fails (exit 3) and creates nothing', async () => {
      const name = `${prefix}-doctor`;
      const up = await rootlet(['up', '--name', name, '--image', image, '--wait', '30s']);
      // This machine's hybrid cgroups fail cgroup.v2 (ENVIRONMENT.md); a host that passes would go on.
      expect(up.exitCode, up.stderr).toBe(3);
      expect(up.stderr).toMatch(/^error: this host is not ready: .*cgroup\.v2/m);
      expect(up.stderr).toContain('--skip-doctor');
      expect(await nodesOf(name)).toEqual([]);
    });

    it('refuses a cluster file whose extra mount has no hostPath on this host (exit 2) and creates nothing', async () => {
      const name = `${prefix}-nomount`;
      const file = path.join(home, 'nomount.yaml');
      await writeFile(file, 'apiVersion: rootlet.dev/v1alpha1\nkind: Cluster\nnodes: {extraMounts: [{hostPath: missing-dir, containerPath: /data}]}\n');
      const up = await rootlet(['up', '-f', file, '--name', name, '--image', image, '--skip-doctor']);
      expect(up.exitCode, up.stderr).toBe(2);
      expect(up.stderr).toMatch(new RegExp(`^error: nodes\\.extraMounts\\[0\\]\\.hostPath ${path.join(home, 'missing-dir')} does not exist$`, 'm'));
      expect(await nodesOf(name)).toEqual([]);
    });

    it("fails doctor's sysctl.network for an extra port below ip_unprivileged_port_start, with the setting that allows it", async () => {
      const start = Number((await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')).trim());
      expect(start, 'this machine lets unprivileged users bind port 80: the test needs the default 1024').toBeGreaterThan(80);
      const name = `${prefix}-lowport`;
      const file = path.join(home, 'lowport.yaml');
      await writeFile(file, 'apiVersion: rootlet.dev/v1alpha1\nkind: Cluster\nnodes: {extraPortMappings: [{containerPort: 30080, hostPort: 80}]}\n');
      const up = await rootlet(['up', '-f', file, '--name', name, '--image', image]);
      expect(up.exitCode, up.stderr).toBe(3);
      expect(up.stderr).toMatch(
        /^ {2}sysctl\.network: .*ports 80 are below net\.ipv4\.ip_unprivileged_port_start = \d+, .*; fix: as root: .*ip_unprivileged_port_start = 80/m,
      );
      expect(await nodesOf(name)).toEqual([]);
    });

    it('a readiness timeout is exit 1 with what is not ready; everything is removed and the log has no token', async () => {
      const name = `standin-notready-${prefix}`;
      const up = await rootlet(['up', '--name', name, '--workers', '1', '--image', image, '--skip-doctor', '--wait', '8s']);
      expect(up.exitCode, up.stderr).toBe(1);
      expect(up.stderr).toMatch(/^error: not ready after 8s: .*node standin-notready-\S+-control-plane/m);
      const log = /log: (\S+\.log)/.exec(up.stderr)?.[1];
      expect(log, up.stderr).toBeDefined();
      expect(log!.startsWith(path.join(home, '.local', 'state', 'rootlet', name))).toBe(true);
      const text = await readFile(log!, 'utf8');
      expect(text).toContain('kubeadm init --config /kind/rootlet-init.yaml --skip-token-print');
      expect(text).not.toMatch(TOKEN);
      expect((await stat(log!)).mode & 0o777).toBe(0o600);
      expect(await nodesOf(name)).toEqual([]);
    });

    it('a failed kubeadm init is exit 1 naming kubeadm; --retain keeps the nodes, down removes them', async () => {
      const name = `standin-initfail-${prefix}`;
      const up = await rootlet(['up', '--name', name, '--image', image, '--skip-doctor', '--wait', '30s', '--retain']);
      expect(up.exitCode, up.stderr).toBe(1);
      expect(up.stderr).toMatch(/^error: kubeadm init failed on standin-initfail-\S+-control-plane: /m);
      expect(up.stderr).toContain('--retain');
      expect(await nodesOf(name)).toEqual([`${name}-control-plane`]);
      // A re-run does not mistake the half-done init (admin.conf written, no record) for a finished one.
      const again = await rootlet(['up', '--name', name, '--image', image, '--skip-doctor', '--wait', '30s']);
      expect(again.exitCode, again.stderr).toBe(1);
      expect(again.stderr).toMatch(/^error: kubeadm init did not finish on \S+ in an earlier run/m);
      expect(again.stderr).toContain(`rootlet down --name ${name}`);
      expect((await rootlet(['down', '--name', name])).exitCode).toBe(0);
      expect(await nodesOf(name)).toEqual([]);
    });

    it('Ctrl-C during up exits 130 after removing what it created', async () => {
      const name = `${prefix}-sigint`;
      const up = await rootlet(['up', '--name', name, '--workers', '1', '--image', image, '--skip-doctor', '--wait', '60s'], {
        signalAfter: /Created|Control plane initialized/,
      });
      expect(up.exitCode, up.stderr).toBe(130);
      expect(up.stderr).toMatch(/^error: interrupted/m);
      expect(await nodesOf(name)).toEqual([]);
    });

    it('Ctrl-C during kubeadm init with --retain stops kubeadm in the node and deletes its config', async () => {
      const name = `standin-slowinit-${prefix}`;
      const controlPlane = `${name}-control-plane`;
      const up = await rootlet(['up', '--name', name, '--image', image, '--skip-doctor', '--retain'], {
        signalAfter: /\[STARTED\] Initialize the control plane/,
        signalDelayMs: 2000,
      });
      try {
        expect(up.exitCode, up.stderr).toBe(130);
        // kubeadm had started (it writes admin.conf before waiting for the control plane)...
        expect((await engine.exec(controlPlane, ['test', '-f', '/etc/kubernetes/admin.conf'])).exitCode).toBe(0);
        // ...and was stopped, and the file with the token is gone.
        expect((await engine.exec(controlPlane, ['pgrep', '-f', 'kubeadm init'])).exitCode).toBe(1);
        expect((await engine.exec(controlPlane, ['test', '-e', '/kind/rootlet-init.yaml'])).exitCode).toBe(1);
      } finally {
        await rootlet(['down', '--name', name]);
      }
    });

    it('the argv watch sees a token planted in a process argv (so its silence means something)', async () => {
      const planted = watchArgvForTokens(10);
      planted.start();
      await execa('sh', ['-c', 'sleep 0.3', PLANTED]);
      planted.stop();
      expect(planted.hits().join('\n')).toContain(PLANTED);
    });

    it('no process argv showed a token, and nothing rootlet printed holds one', async () => {
      expect(watch.hits().filter((hit) => !hit.includes(PLANTED))).toEqual([]);
      expect(watch.samples()).toBeGreaterThan(20);
      for (const output of outputs) expect(output).not.toMatch(TOKEN);
      const logs = path.join(home, '.local', 'state', 'rootlet');
      for (const dir of await readdir(logs).catch(() => [])) {
        for (const file of await readdir(path.join(logs, dir))) expect(await readFile(path.join(logs, dir, file), 'utf8')).not.toMatch(TOKEN);
      }
    });
  });
}
