/**
 * A three-host cluster on one machine, as a lab admin would make it: `rootlet up` as rootlet-podman (the control
 * host, at its own address on lo), then `rootlet join` of rootlet-remote1 (rootless Podman) and rootlet-remote2
 * (rootless Docker) over the real test sshd at their own addresses. Real host keys, real engines, the node image
 * streamed over the SSH connection, the remote nodes reaching the control plane through the published port; the
 * stand-in node image stands in for kubeadm and kubectl only. While it runs, every process argv on the machine is
 * watched for anything shaped like a bootstrap token.
 */
import { chown, copyFile, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { buildAppImage } from '../support/app-image.js';
import { asUser, ROOTLET } from '../support/cli.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { knownHostsLine, MISSING_SSH, sshFacts } from '../support/ssh.js';
import { ensureStandinImage } from '../support/standin-image.js';
import { watchArgvForTokens } from './argv-watch.js';

const facts = sshFacts();
const podmanSocket = engineSockets().podman;
const CONTROL = 'rootlet-podman';

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

interface HostOutcome {
  host: string;
  outcome: string;
  node?: string;
  address?: string;
  reason?: string;
  error?: { exitCode: number; message: string; details?: string[] };
}

if (!facts || !podmanSocket) {
  console.warn(MISSING_SSH);
  it.skip(`rootlet join over SSH: ${!facts ? MISSING_SSH : MISSING_ENGINES}`, () => undefined);
} else {
  describe('a three-host cluster: rootlet up here, rootlet join of two more hosts over SSH', () => {
    const [remote1, remote2] = facts.remotes;
    const name = `j${process.pid.toString(36)}`;
    const host1 = `${remote1.user}@${remote1.address}:${facts.port}`;
    const host2 = `${remote2.user}@${remote2.address}:${facts.port}`;
    const watch = watchArgvForTokens();
    let control: Engine;
    let engines: [Engine, Engine];
    let image: string;
    let home: string;
    let uid: number;
    let node1 = '';
    let node2 = '';

    /** The built CLI as the control host's user; with `interruptAfter`, one Ctrl-C once stderr shows it. */
    const rootlet = async (args: string[], interruptAfter?: RegExp): Promise<Run> => {
      const child = execa(...asUser(CONTROL, uid, ['node', ROOTLET, ...args], { HOME: home, CI: '1' }), { reject: false, stdin: 'ignore' });
      if (interruptAfter) {
        let seen = '';
        let sent = false;
        child.stderr.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (!sent && interruptAfter.test(seen)) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      }
      const result = await child;
      const run = { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
      outputs.push(run.stdout, run.stderr);
      return run;
    };
    /** Everything rootlet printed, for the token scan at the end. */
    const outputs: string[] = [];
    const joinJson = (run: Run): HostOutcome[] => (JSON.parse(run.stdout) as { hosts: HostOutcome[] }).hosts;
    const knownHosts = () => path.join(home, '.ssh', 'known_hosts');

    /** `kubectl get nodes -o json` in the control plane, as its admin. */
    async function clusterNodes(): Promise<
      Array<{ metadata: { name: string; annotations?: Record<string, string> }; spec: { taints?: unknown[] }; status: { addresses: unknown[] } }>
    > {
      const result = await control.exec(`${name}-control-plane`, ['kubectl', 'get', 'nodes', '-o', 'json']);
      expect(result.exitCode, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { items: never[] }).items;
    }

    beforeAll(async () => {
      control = await testEngine('podman', podmanSocket);
      engines = [await testEngine(remote1.engine, remote1.socket), await testEngine(remote2.engine, remote2.socket)];
      image = await ensureStandinImage(control);
      // The other hosts start without the node image: join brings it over from this host's engine.
      for (const remote of facts.remotes)
        await new Docker({ socketPath: remote.socket })
          .getImage(image)
          .remove({ force: true })
          .catch(() => undefined);
      uid = Number((await execa('id', ['-u', CONTROL])).stdout);
      home = await mkdtemp(path.join(os.tmpdir(), 'rootlet-e2e-join-'));
      await mkdir(path.join(home, '.ssh'), { mode: 0o700 });
      await copyFile(facts.key, path.join(home, '.ssh', 'id_ed25519'));
      // remote2's address is recorded with another key: its host key "changed", which no flag may accept.
      const impostor = path.join(home, 'impostor');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', impostor]);
      const impostorKey = (await readFile(`${impostor}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
      await writeFile(knownHosts(), `[${remote2.address}]:${facts.port} ${impostorKey}\n`);
      for (const file of [home, path.join(home, '.ssh'), path.join(home, '.ssh', 'id_ed25519'), knownHosts()]) await chown(file, uid, uid);
      watch.start();
    }, 240_000);

    afterAll(async () => {
      watch.stop();
      for (const engine of [control, ...engines])
        for (const cluster of [name, `${name}f`]) {
          for (const node of await engine.listNodes(cluster)) await engine.removeNode(node.name).catch(() => undefined);
          await engine.removeNetwork(`rootlet-${cluster}`).catch(() => undefined);
        }
    });

    it('brings up a control plane published on its host address too (API server, kubelet, VXLAN; never 0.0.0.0, never etcd)', async () => {
      const up = await rootlet([
        'up',
        '--name',
        name,
        '--image',
        image,
        '--advertise-address',
        facts.controlAddress,
        '--ignore-check',
        'cgroup.v2',
        '--wait',
        '60s',
        '--json',
      ]);
      expect(up.exitCode, up.stderr).toBe(0);
      expect(JSON.parse(up.stdout)).toMatchObject({ advertiseAddress: facts.controlAddress });
      const [node] = await control.listNodes(name);
      const ports = node!.ports.map((port) => `${port.hostAddress}:${port.hostPort}/${port.protocol}`).sort();
      const api = node!.ports.find((port) => port.hostAddress === '127.0.0.1')!.hostPort;
      expect(ports).toEqual(
        [`127.0.0.1:${api}/tcp`, `${facts.controlAddress}:${api}/tcp`, `${facts.controlAddress}:10250/tcp`, `${facts.controlAddress}:8472/udp`].sort(),
      );
      const flannel = (await clusterNodes())[0]!.metadata.annotations?.['flannel.alpha.coreos.com/public-ip-overwrite'];
      expect(flannel).toBe(facts.controlAddress);
    }, 120_000);

    it('refuses a changed host key (exit 5) and still joins the other host', async () => {
      const join = await rootlet(['join', '--name', name, host1, host2, '--accept-new-host-keys', '--ignore-check', 'cgroup.v2', '--wait', '60s', '--json']);
      expect(join.exitCode, join.stderr).toBe(5);
      const [first, second] = joinJson(join);
      expect(first).toMatchObject({ host: host1, outcome: 'joined', address: remote1.address });
      node1 = first!.node!;
      expect(second).toMatchObject({ host: host2, outcome: 'failed', error: { exitCode: 5, message: expect.stringContaining('has CHANGED') as unknown } });
      expect(await engines[1].listNodes(name)).toEqual([]);
      const [container] = await engines[0].listNodes(name);
      expect(container).toMatchObject({ name: first!.node, status: 'running', hostId: host1 });
      expect(container!.ports.map((port) => `${port.hostAddress}:${port.hostPort}/${port.protocol}`).sort()).toEqual([
        `${remote1.address}:10250/tcp`,
        `${remote1.address}:8472/udp`,
      ]);
      // The accepted key was recorded; the changed one was left for the user to look at.
      const recorded = await readFile(knownHosts(), 'utf8');
      expect(recorded).toContain(knownHostsLine(facts, remote1.address));
      expect(recorded).not.toContain(knownHostsLine(facts, remote2.address));
    }, 180_000);

    it('reports a host whose checks fail (its kubelet port is taken there, exit 3) and keeps the joined one', async () => {
      await writeFile(knownHosts(), `${knownHostsLine(facts, remote1.address)}\n${knownHostsLine(facts, remote2.address)}\n`);
      const squatter: Server = createServer();
      await new Promise<void>((resolve) => squatter.listen(10250, remote2.address, resolve));
      try {
        const join = await rootlet(['join', '--name', name, host1, host2, '--ignore-check', 'cgroup.v2', '--wait', '60s', '--json']);
        expect(join.exitCode, join.stderr).toBe(3);
        const [first, second] = joinJson(join);
        expect(first).toMatchObject({ outcome: 'kept' });
        expect(second).toMatchObject({ outcome: 'failed', error: { exitCode: 3 } });
        expect(second!.error!.details!.join('\n')).toContain(`10250/tcp (kubelet) is in use on ${remote2.address}`);
        expect(await engines[1].listNodes(name)).toEqual([]);
      } finally {
        await new Promise((resolve) => squatter.close(resolve));
      }
    }, 180_000);

    it('finishes the failed host on a re-run: the image copied over, addresses set, taints gone, no join token left', async () => {
      const join = await rootlet(['join', '--name', name, host1, host2, '--ignore-check', 'cgroup.v2', '--wait', '60s', '--json']);
      expect(join.exitCode, join.stderr).toBe(0);
      const [first, second] = joinJson(join);
      expect(first).toMatchObject({ outcome: 'kept' });
      expect(second).toMatchObject({ outcome: 'joined', address: remote2.address });
      node2 = second!.node!;
      expect(await engines[1].hasImage(image)).toBe(true);
      const nodes = new Map((await clusterNodes()).map((node) => [node.metadata.name, node]));
      for (const [outcome, remote] of [
        [first!, remote1],
        [second!, remote2],
      ] as const) {
        const node = nodes.get(outcome.node!)!;
        expect(node.status.addresses).toContainEqual({ type: 'ExternalIP', address: remote.address });
        expect(node.metadata.annotations?.['flannel.alpha.coreos.com/public-ip-overwrite']).toBe(remote.address);
        expect(node.spec.taints ?? []).toEqual([]);
      }
      // Only the init token (30 minutes) remains: every join token was deleted after its join.
      const tokens = await control.exec(`${name}-control-plane`, ['ls', '/var/lib/standin/tokens']);
      expect(tokens.stdout.trim().split('\n').filter(Boolean)).toHaveLength(1);
    }, 180_000);

    it('shows every host in status', async () => {
      const status = await rootlet(['status', '--name', name, '--json']);
      expect(status.exitCode, status.stderr).toBe(0);
      const [cluster] = (JSON.parse(status.stdout) as { clusters: Array<{ ready: boolean; nodes: Array<{ host: string; ready: boolean }> }> }).clusters;
      expect(cluster!.nodes.map((node) => node.host).sort()).toEqual(['local', host1, host2].sort());
      expect(cluster!.ready).toBe(true);
    }, 60_000);

    it('load streams an image into the nodes of every host (over SSH for the joined ones), and logs collects them all', async () => {
      const app = `rootlet-load-${name}:1`;
      const appId = await buildAppImage(control, app, `app of ${name}\n`);
      try {
        const run = await rootlet(['load', '--name', name, app, '--json']);
        expect(run.exitCode, run.stderr).toBe(0);
        const loads = (JSON.parse(run.stdout) as { nodes: Array<{ node: string; host: string; outcome: string }> }).nodes;
        expect(loads.map((load) => [load.host, load.outcome]).sort()).toEqual(
          [
            ['this host', 'loaded'],
            [host1, 'loaded'],
            [host2, 'loaded'],
          ].sort(),
        );
        for (const [engine, node] of [
          [control, `${name}-control-plane`],
          [engines[0], node1],
          [engines[1], node2],
        ] as const) {
          const answer = await engine.exec(node, ['crictl', 'inspecti', '-o', 'json', app]);
          expect(answer.exitCode, `${node}: ${answer.stderr}`).toBe(0);
          expect((JSON.parse(answer.stdout) as { status: { id: string } }).status.id).toBe(`sha256:${appId}`);
        }

        const dir = path.join(home, 'logs');
        const logs = await rootlet(['logs', '--name', name, dir]);
        expect(logs.exitCode, logs.stderr).toBe(0);
        for (const node of [`${name}-control-plane`, node1, node2]) expect(await readFile(path.join(dir, node, 'inspect.json'), 'utf8')).toContain(node);
        expect(await readFile(path.join(dir, 'hosts.json'), 'utf8')).toContain(node2);
      } finally {
        await new Docker({ socketPath: podmanSocket })
          .getImage(app)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }, 120_000);

    it('shows a node removed behind its back as missing, and join makes it again under its name', async () => {
      await engines[0].removeNode(node1);
      const status = await rootlet(['status', '--name', name, '--json']);
      const [cluster] = (JSON.parse(status.stdout) as { clusters: Array<{ nodes: Array<{ name: string; container: string }>; problems: string[] }> }).clusters;
      expect(cluster!.nodes.find((node) => node.name === node1)).toMatchObject({ container: 'missing' });
      expect(cluster!.problems.join('\n')).toContain(`node ${node1} is missing on ${host1}`);
      const join = await rootlet(['join', '--name', name, host1, '--ignore-check', 'cgroup.v2', '--wait', '60s', '--json']);
      expect(join.exitCode, join.stderr).toBe(0);
      expect(joinJson(join)[0]).toMatchObject({ outcome: 'joined', node: node1 });
      expect((await engines[0].listNodes(name)).map((node) => node.name)).toEqual([node1]);
    }, 180_000);

    it('down --host drains and deletes one host’s node, and removes its container there', async () => {
      const down = await rootlet(['down', '--name', name, '--host', host2]);
      expect(down.exitCode, down.stderr).toBe(0);
      expect(await engines[1].listNodes(name)).toEqual([]);
      const left = (await clusterNodes()).map((node) => node.metadata.name);
      expect(left).not.toContain(node2);
      expect(left).toHaveLength(2);
    }, 120_000);

    it('Ctrl-C after a host has joined, before it is set up, leaves nothing of it: no container there, no node in the cluster (exit 130)', async () => {
      // Its node has registered by then: the undo must take it out of the cluster, though the run's signal has fired.
      const join = await rootlet(['join', '--name', name, host2, '--ignore-check', 'cgroup.v2', '--wait', '60s'], /setting its addresses/);
      expect(join.exitCode, join.stderr).toBe(130);
      expect(await engines[1].listNodes(name)).toEqual([]);
      expect((await clusterNodes()).map((node) => node.metadata.name)).toHaveLength(2);
      const members = JSON.parse(await readFile(path.join(home, '.local/state/rootlet', name, 'hosts.json'), 'utf8')) as { hosts: Array<{ host: string }> };
      expect(members.hosts.map((member) => member.host)).toEqual([host1]);
      // The member list (no secrets, but who connects where with which key) is the user's alone.
      const state = path.join(home, '.local/state/rootlet', name);
      expect((await stat(path.join(state, 'hosts.json'))).mode & 0o777).toBe(0o600);
      expect((await stat(state)).mode & 0o777).toBe(0o700);
    }, 120_000);

    it('down removes the nodes on every host, and forgets the hosts', async () => {
      const down = await rootlet(['down', '--name', name]);
      expect(down.exitCode, down.stderr).toBe(0);
      for (const engine of [control, ...engines]) expect(await engine.listNodes(name)).toEqual([]);
      await expect(readFile(path.join(home, '.local/state/rootlet', name, 'hosts.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    }, 120_000);

    it('up -f with hosts brings up the whole multi-host cluster in one command, extra ports published on the host', async () => {
      const whole = `${name}f`;
      const file = path.join(home, 'lab.yaml');
      await writeFile(
        file,
        [
          'apiVersion: rootlet.dev/v1alpha1',
          'kind: Cluster',
          `name: ${whole}`,
          `networking: {advertiseAddress: ${facts.controlAddress}}`,
          'hosts:',
          `  - {address: ${remote1.address}, port: ${facts.port}, user: ${remote1.user}, extraPortMappings: [{containerPort: 30080, hostPort: 18080}]}`,
          '',
        ].join('\n'),
      );
      await chown(file, uid, uid);
      try {
        const up = await rootlet(['up', '-f', file, '--image', image, '--ignore-check', 'cgroup.v2', '--wait', '60s', '--json']);
        expect(up.exitCode, up.stderr).toBe(0);
        const result = JSON.parse(up.stdout) as { advertiseAddress: string; join: { hosts: HostOutcome[] } };
        expect(result.advertiseAddress).toBe(facts.controlAddress);
        expect(result.join.hosts).toMatchObject([{ host: host1, outcome: 'joined', address: remote1.address }]);
        const [node] = await engines[0].listNodes(whole);
        expect(node!.ports.map((port) => `${port.hostAddress}:${port.hostPort}->${port.containerPort}/${port.protocol}`).sort()).toEqual([
          `${remote1.address}:10250->10250/tcp`,
          `${remote1.address}:18080->30080/tcp`,
          `${remote1.address}:8472->8472/udp`,
        ]);
      } finally {
        const down = await rootlet(['down', '--name', whole]);
        expect(down.exitCode, down.stderr).toBe(0);
      }
      expect(await engines[0].listNodes(whole)).toEqual([]);
    }, 180_000);

    it('never had a bootstrap token in any process argv on the machine, nor in anything rootlet printed or logged', async () => {
      expect(watch.samples()).toBeGreaterThan(10);
      expect(watch.hits().join('\n')).toBe('');
      expect(outputs.length).toBeGreaterThan(20);
      // A token as a word: event names (<object>.<16 hex>) hold the same shape inside longer words.
      const token = /(?<![a-z0-9-])[a-z0-9]{6}\.[a-z0-9]{16}(?![a-z0-9])/;
      for (const output of outputs) expect(output).not.toMatch(token);
      // rootlet's own logs and member lists, and the collected logs (rootlet logs) of the cluster.
      const files = (await readdir(home, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
      expect(files.some((entry) => entry.name.endsWith('.log'))).toBe(true);
      for (const entry of files.filter((candidate) => !candidate.parentPath.includes('.ssh') && candidate.name !== 'impostor'))
        expect(await readFile(path.join(entry.parentPath, entry.name), 'utf8'), entry.name).not.toMatch(token);
    });
  });
}
