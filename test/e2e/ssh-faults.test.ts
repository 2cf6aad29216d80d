/**
 * SSH connections dropping in the middle of `rootlet join`, for real: the sshd process that serves the join's
 * connection to rootlet-remote1 (that one, found by its socket; never the listening sshd, never another test's session)
 * is killed at a chosen step. That host fails with a one-line reason and a next step (exit 5), the other host joins
 * regardless, no join token outlives the run, and the same join run again finishes the host. The control host is
 * rootlet-podman at its own address on lo; the cluster's kubelet and VXLAN ports are its own, so it does not meet
 * another test's cluster on the remote hosts.
 */
import { readFileSync } from 'node:fs';
import { chown, rm, copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { asUser, ROOTLET, type CliResult } from '../support/cli.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { freePort } from '../support/ports.js';
import { tally } from '../support/reliability.js';
import { knownHostsLine, MISSING_SSH, sshFacts, type SshFacts } from '../support/ssh.js';
import { ensureStandinImage } from '../support/standin-image.js';

const facts = sshFacts();
const podmanSocket = engineSockets().podman;
const CONTROL = 'rootlet-podman';

interface HostOutcome {
  host: string;
  outcome: string;
  node?: string;
  address?: string;
}

/** Counts the fault once the test has run: survived when every assertion held. */
function fault(what: string): void {
  onTestFinished(({ task }) => tally('fault', `ssh connection dropped during join: ${what}`, task.result?.state === 'pass'));
}

/** `users:(("node",pid=123,fd=20),...)` of an `ss -p` line, as pids. */
function pidsOf(line: string): number[] {
  return [...line.matchAll(/pid=(\d+)/g)].map((match) => Number(match[1]));
}

function uidOf(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('Uid:'));
    return line === undefined ? undefined : Number(line.split(/\s+/)[1]);
  } catch {
    return undefined;
  }
}

/**
 * The sshd processes running as `uid` that serve a connection process `client` opened to the test sshd at `address`
 * (the post-login session process of that connection; its root monitor is left alone and exits with it).
 */
async function sshdSessions(facts: SshFacts, client: number, address: string, uid: number): Promise<number[]> {
  const server = `${address}:${facts.port}`;
  const ours = (await execa('ss', ['-Htnp', 'state', 'established', 'dst', server])).stdout
    .split('\n')
    .filter((line) => pidsOf(line).includes(client))
    .map((line) => line.trim().split(/\s+/)[2]!);
  const found: number[] = [];
  for (const local of ours) {
    const served = (await execa('ss', ['-Htnp', 'state', 'established', 'src', server, 'dst', local])).stdout;
    for (const pid of served.split('\n').flatMap(pidsOf)) if (uidOf(pid) === uid && !found.includes(pid)) found.push(pid);
  }
  return found;
}

if (!facts || !podmanSocket) {
  console.warn(MISSING_SSH);
  it.skip(`SSH faults during join: ${!facts ? MISSING_SSH : MISSING_ENGINES}`, () => undefined);
} else {
  describe('the SSH connection to one host drops in the middle of rootlet join', () => {
    const [remote1, remote2] = facts.remotes;
    const name = `sf${process.pid.toString(36)}`;
    const controlPlane = `${name}-control-plane`;
    const host1 = `${remote1.user}@${remote1.address}:${facts.port}`;
    const host2 = `${remote2.user}@${remote2.address}:${facts.port}`;
    /** remote1 is named first, so it gets the plain `<cluster>-<hostname>` (both remotes are this machine). */
    const node1 = `${name}-${os
      .hostname()
      .split('.')[0]!
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')}`;
    let control: Engine;
    let engines: [Engine, Engine];
    let image: string;
    let home: string;
    let uid: number;
    let remote1Uid: number;
    let file: string;
    const kills: number[] = [];

    /**
     * The built CLI as the control host's user (plain progress). With `drop`, once stderr matches it (or at once for
     * 'login'), the sshd session serving this run's connection to remote1 is killed (SIGKILL, as a crash or a cut link
     * ends it).
     */
    async function rootlet(args: string[], drop?: RegExp | 'login'): Promise<CliResult> {
      const child = execa(...asUser(CONTROL, uid, ['node', ROOTLET, ...args], { HOME: home, CI: '1' }), { reject: false, stdin: 'ignore' });
      let killing: Promise<void> | undefined;
      if (drop) {
        let seen = '';
        const kill = async () => {
          // setpriv and env exec node: the child's pid is rootlet's.
          for (let attempt = 0; attempt < 400 && child.exitCode === null; attempt++) {
            const sessions = await sshdSessions(facts!, child.pid!, remote1.address, remote1Uid);
            if (sessions.length > 0) {
              for (const pid of sessions) process.kill(pid, 'SIGKILL');
              kills.push(...sessions);
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        };
        if (drop === 'login') killing = kill();
        else
          child.stderr.on('data', (chunk: Buffer) => {
            seen += chunk.toString();
            if (killing === undefined && drop.test(seen)) killing = kill();
          });
      }
      const result = await child;
      await killing;
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    }
    const join = (hosts: string[], drop?: RegExp | 'login') =>
      rootlet(['join', '--name', name, ...hosts, '--ignore-check', 'cgroup.v2', '--wait', '60s', ...(drop ? [] : ['--json'])], drop);
    const joinJson = (run: CliResult): HostOutcome[] => (JSON.parse(run.stdout) as { hosts: HostOutcome[] }).hosts;

    /** The failure line of a host in join's table output, and the hint under it. */
    function failureOf(run: CliResult, host: string): { reason: string; hint: string } {
      const lines = run.stdout.split('\n');
      const at = lines.findIndex((line) => line.startsWith(`${host}: `));
      expect(at, run.stdout).toBeGreaterThanOrEqual(0);
      return { reason: lines[at]!.slice(host.length + 2), hint: lines[at + 1]?.replace(/^ {2}hint: /, '') ?? '' };
    }

    /** The join tokens the control plane holds (the stand-in's state: one file per token id). */
    async function tokenIds(): Promise<string[]> {
      const listed = await control.exec(controlPlane, ['ls', '/var/lib/standin/tokens']);
      expect(listed.exitCode, listed.stderr).toBe(0);
      return listed.stdout.trim().split('\n').filter(Boolean).sort();
    }

    async function clusterNodes(): Promise<Array<{ metadata: { name: string }; spec: { taints?: unknown[] }; status: { addresses?: unknown[] } }>> {
      const result = await control.exec(controlPlane, ['kubectl', 'get', 'nodes', '-o', 'json']);
      expect(result.exitCode, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { items: never[] }).items;
    }

    /** Joined for real: its node Ready in status, its address set, no taint left. */
    async function expectJoined(node: string, address: string): Promise<void> {
      const item = (await clusterNodes()).find((candidate) => candidate.metadata.name === node);
      expect(item, `${node} registered`).toBeDefined();
      expect(item!.status.addresses).toContainEqual({ type: 'ExternalIP', address });
      expect(item!.spec.taints ?? []).toEqual([]);
      const status = await rootlet(['status', '--name', name, '--json']);
      const [cluster] = (
        JSON.parse(status.stdout) as { clusters: Array<{ nodes: Array<{ name: string; container: string; ready: boolean }>; problems: string[] }> }
      ).clusters;
      expect(
        cluster!.nodes.find((candidate) => candidate.name === node),
        cluster!.problems.join('\n'),
      ).toMatchObject({ container: 'running', ready: true });
    }

    beforeAll(async () => {
      control = await testEngine('podman', podmanSocket);
      engines = [await testEngine(remote1.engine, remote1.socket), await testEngine(remote2.engine, remote2.socket)];
      image = await ensureStandinImage(control);
      uid = Number((await execa('id', ['-u', CONTROL])).stdout);
      remote1Uid = Number((await execa('id', ['-u', remote1.user])).stdout);
      home = await mkdtemp(path.join(os.tmpdir(), 'rootlet-e2e-ssh-faults-'));
      await mkdir(path.join(home, '.ssh'), { mode: 0o700 });
      await copyFile(facts.key, path.join(home, '.ssh', 'id_ed25519'));
      await writeFile(path.join(home, '.ssh', 'known_hosts'), `${knownHostsLine(facts, remote1.address)}\n${knownHostsLine(facts, remote2.address)}\n`);
      // Ports of this cluster alone: other tests join these remote hosts with the default ones meanwhile.
      const [kubeletPort, vxlanPort] = [await freePort(), await freePort()];
      file = path.join(home, 'cluster.yaml');
      await writeFile(
        file,
        [
          'apiVersion: rootlet.dev/v1alpha1',
          'kind: Cluster',
          `name: ${name}`,
          `networking: {advertiseAddress: ${facts.controlAddress}, kubeletPort: ${kubeletPort}, vxlanPort: ${vxlanPort}}`,
          '',
        ].join('\n'),
      );
      for (const owned of [home, path.join(home, '.ssh'), path.join(home, '.ssh', 'id_ed25519'), path.join(home, '.ssh', 'known_hosts'), file])
        await chown(owned, uid, uid);
    }, 240_000);

    afterAll(async () => {
      for (const engine of [control, ...engines]) {
        for (const node of await engine.listNodes(name)) await engine.removeNode(node.name).catch(() => undefined);
        await engine.removeOrphanVolumes(name).catch(() => undefined);
        await engine.removeNetwork(`rootlet-${name}`).catch(() => undefined);
      }
      await rm(home, { recursive: true, force: true });
    });

    it('brings up the control plane, published on its host address', async () => {
      const up = await rootlet(['up', '-f', file, '--image', image, '--ignore-check', 'cgroup.v2', '--wait', '60s', '--json']);
      expect(up.exitCode, up.stderr).toBe(0);
    }, 120_000);

    it('a drop right after login: exit 5, the host named, nothing created there', async () => {
      fault('right after login');
      const run = await join([host1], 'login');
      expect(kills.length, 'an sshd session was killed').toBeGreaterThan(0);
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(5);
      const { reason } = failureOf(run, host1);
      expect(reason).toMatch(new RegExp(`^ssh: the connection to ${host1.replaceAll('.', '\\.')} was lost`));
      expect(run.stdout + run.stderr).not.toMatch(/at .*\.js:\d+|internal error/);
      expect(await engines[0].listNodes(name)).toEqual([]);
    }, 120_000);

    it('a drop while its node is created: that host fails with the reason and a next step (exit 5), the other joins', async () => {
      fault('while the node is created');
      const before = await tokenIds();
      const run = await join([host1, host2], new RegExp(`creating node ${node1}$`, 'm'));
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(5);
      const { reason, hint } = failureOf(run, host1);
      expect(reason).toMatch(new RegExp(`^ssh: the connection to ${host1.replaceAll('.', '\\.')} was lost`));
      expect(reason).not.toContain('\n');
      expect(hint).toContain('run the same join again to finish it');
      expect(run.stdout).not.toContain(`${host2}: `);
      expect(run.stdout).toMatch(new RegExp(`^\\s+${host2.replaceAll('.', '\\.')}\\s+\\S+\\s+${remote2.address.replaceAll('.', '\\.')}\\s+joined`, 'm'));
      expect(run.stdout + run.stderr).not.toMatch(/at .*\.js:\d+|internal error/);
      // The other host's token was deleted after its join, and the dropped host never got one.
      expect(await tokenIds()).toEqual(before);
    }, 180_000);

    it('the same join again finishes the dropped host: Ready, addresses set, taints gone', async () => {
      const before = await tokenIds();
      const run = await join([host1, host2]);
      expect(run.exitCode, run.stderr).toBe(0);
      const [first, second] = joinJson(run);
      expect(first).toMatchObject({ host: host1, node: node1, address: remote1.address });
      expect(['joined', 'kept']).toContain(first!.outcome);
      expect(second).toMatchObject({ host: host2, outcome: 'kept' });
      await expectJoined(node1, remote1.address);
      expect((await engines[0].listNodes(name)).map((node) => node.name)).toEqual([node1]);
      expect(await tokenIds()).toEqual(before);
    }, 180_000);

    it('a drop during kubeadm join: exit 5, its token deleted from the control plane, and a re-run finishes the host', async () => {
      fault('during kubeadm join');
      const down = await rootlet(['down', '--name', name, '--host', host1]);
      expect(down.exitCode, down.stderr).toBe(0);
      const before = await tokenIds();
      const run = await join([host1], /joining \(kubeadm join\)$/m);
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(5);
      expect(failureOf(run, host1).reason).toMatch(new RegExp(`^ssh: the connection to ${host1.replaceAll('.', '\\.')} was lost`));
      // The token made for this join was deleted by id on the control plane, which was still reachable.
      expect(await tokenIds()).toEqual(before);

      const again = await join([host1]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(joinJson(again)[0]).toMatchObject({ host: host1, node: node1 });
      await expectJoined(node1, remote1.address);
      // No join configuration (it held the token) is left in the node.
      expect((await engines[0].exec(node1, ['test', '-e', '/kind/rootlet-join.yaml'])).exitCode).not.toBe(0);
      expect(await tokenIds()).toEqual(before);
    }, 240_000);

    it('a drop while a joined host is checked: exit 5, its node left as it was; a re-run keeps it', async () => {
      fault('during doctor of a joined host');
      const [container] = await engines[0].listNodes(name);
      const run = await join([host1], /checking the host \(rootlet doctor\)$/m);
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(5);
      expect(failureOf(run, host1).reason).toMatch(new RegExp(`^ssh: the connection to ${host1.replaceAll('.', '\\.')} was lost`));
      expect(await engines[0].listNodes(name)).toMatchObject([{ id: container!.id, status: 'running' }]);
      expect((await clusterNodes()).map((node) => node.metadata.name)).toContain(node1);
      const members = JSON.parse(await readFile(path.join(home, '.local/state/rootlet', name, 'hosts.json'), 'utf8')) as { hosts: Array<{ host: string }> };
      expect(members.hosts.map((member) => member.host).sort()).toEqual([host1, host2].sort());

      const again = await join([host1]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(joinJson(again)[0]).toMatchObject({ host: host1, outcome: 'kept', node: node1 });
    }, 180_000);

    it('down removes the nodes on every host', async () => {
      const down = await rootlet(['down', '--name', name]);
      expect(down.exitCode, down.stderr).toBe(0);
      for (const engine of [control, ...engines]) expect(await engine.listNodes(name)).toEqual([]);
    }, 120_000);
  });
}
