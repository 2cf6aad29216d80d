/**
 * Ctrl-C (SIGINT) and SIGTERM at each phase of `rootlet up` and `rootlet join`, sent for real to the built CLI running
 * as the engines' users against rootless Podman and Docker (concurrently) and, for join, over the test sshd to the
 * remote-host users. After each: exit 130, one `error: interrupted` and no stack trace, nothing of the interrupted
 * cluster or host left (containers, volumes, network, kubeconfig context, member entry, Node object), and the cluster
 * that existed before untouched and Ready. A second signal stops the cleanup at once and says how to finish it.
 *
 * Short phases are held open by a node image made for this file on top of the stand-in: its wrappers (ahead of the
 * stand-in's tools in PATH) wait inside nodes whose names ask for it, so the signal lands inside the phase rather than
 * after it; kubeadm init and the readiness wait use the stand-in's own switches, the kubeconfig write a held lock.
 */
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { packArchive } from '../../src/engine/archive.js';
import type { Engine } from '../../src/engine/engine.js';
import type { EngineKind, NodeState } from '../../src/engine/types.js';
import { asUser, ROOTLET } from '../support/cli.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { freePort } from '../support/ports.js';
import { tally } from '../support/reliability.js';
import { knownHostsLine, MISSING_SSH, sshFacts, type SshRemote } from '../support/ssh.js';
import { ensureStandinImage } from '../support/standin-image.js';

const USERS: Record<EngineKind, string> = { podman: 'rootlet-podman', docker: 'rootlet-docker' };
const prefix = `i${process.pid.toString(36)}`;
const sockets = engineSockets();
const facts = sshFacts();
/** A stack frame of ours in the output: an interrupted run prints one line of error, never a trace. */
const STACK = /^\s+at .*:\d+:\d+\)?$/m;
const INTERRUPTED = /^interrupted: cleaning up/m;
/** A joining host's next step, as plain progress shows it. */
const JOIN_STEP = /^\[OUTPUT\]/m;

/** The wrappers of the slow image: each holds one phase in a node whose name asks for it, then runs the stand-in's tool. */
const SLOW_KUBEADM = `#!/bin/sh
# test/e2e/interrupts.test.ts: a worker of a cluster named *-slowjoin-* takes a minute to join.
case "$(hostname):$1" in
  *-slowjoin-*:join) sleep 60 ;;
esac
exec /usr/bin/kubeadm "$@"
`;
const SLOW_KUBECTL = `#!/bin/sh
# test/e2e/interrupts.test.ts: the control plane of a cluster named *-slowcni takes a minute to apply a manifest.
case "$(hostname):$1" in
  *-slowcni-*:apply) sleep 60 ;;
esac
exec /usr/bin/kubectl "$@"
`;
const SLOW_INIT = `#!/bin/sh
# test/e2e/interrupts.test.ts: the workers of a cluster named *slowboot* (also on joined hosts) boot for a minute.
case "$(hostname)" in
  *-control-plane) ;;
  *slowboot*) export STANDIN_BOOT_SECONDS=60 ;;
esac
exec /sbin/init "$@"
`;

/** The stand-in with the wrappers above; built from it on the engine, so no registry is needed. */
async function ensureSlowImage(engine: Engine, standin: string): Promise<string> {
  const rootfs = await packArchive([
    { name: 'usr/local/bin/kubeadm', content: SLOW_KUBEADM, mode: 0o755 },
    { name: 'usr/local/bin/kubectl', content: SLOW_KUBECTL, mode: 0o755 },
    { name: 'usr/local/sbin/slow-init', content: SLOW_INIT, mode: 0o755 },
  ]);
  const dockerfile = `FROM ${standin}\nADD slow.tar /\nENTRYPOINT ["/usr/local/sbin/slow-init"]\n`;
  const context = await packArchive([
    { name: 'Dockerfile', content: dockerfile },
    { name: 'slow.tar', content: rootfs },
  ]);
  const tag = `localhost/rootlet-standin-slow:${createHash('sha256').update(standin).update(context).digest('hex').slice(0, 12)}`;
  if (!(await engine.hasImage(tag))) await engine.buildImage(context, tag);
  return tag;
}

/** A UDP port nothing is bound to on `address` now (the cluster's VXLAN port, away from other tests' 8472). */
async function freeUdpPort(address: string): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

interface Lane {
  kind: EngineKind;
  user: string;
  uid: number;
  home: string;
  engine: Engine;
  docker: Docker;
  image: string;
  /** The cluster that existed before every interrupted run, and its nodes as they were. */
  before: string;
  beforeNodes: NodeState[];
}

/** A signal to send once stderr matches `after` (and `delayMs` more have passed). */
interface Trigger {
  after: RegExp;
  signal: 'SIGINT' | 'SIGTERM';
  delayMs?: number;
}

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** When each trigger's signal went, and when the process ended (ms since the epoch). */
  sentAt: number[];
  endedAt: number;
}

/** The built CLI as the lane's user (their uid, runtime dir, a HOME of the lane's, CI for plain progress), signalled as told. */
async function rootlet(lane: Lane, args: string[], triggers: Trigger[] = []): Promise<Run> {
  const child = execa(...asUser(lane.user, lane.uid, ['node', ROOTLET, ...args], { HOME: lane.home, CI: '1' }), { reject: false, stdin: 'ignore' });
  let seen = '';
  let next = 0;
  let waiting = false;
  const sentAt: number[] = [];
  const fire = () => {
    const trigger = triggers[next];
    if (trigger === undefined || waiting || !trigger.after.test(seen)) return;
    waiting = true;
    setTimeout(() => {
      // setpriv and env exec node: the child's pid is rootlet's, as a terminal's Ctrl-C or a service manager reaches it.
      child.kill(trigger.signal);
      sentAt.push(Date.now());
      next++;
      waiting = false;
      fire();
    }, trigger.delayMs ?? 0);
  };
  child.stderr.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    fire();
  });
  const result = await child;
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), sentAt, endedAt: Date.now() };
}

/** Runs `body` for every lane at once; each lane's failure is reported with its engine's name. */
async function onEach(lanes: readonly Lane[], body: (lane: Lane) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(lanes.map(body));
  const failures = results.flatMap((result, index) => {
    if (result.status === 'fulfilled') return [];
    const reason = result.reason as Error;
    reason.message = `[${lanes[index]!.kind}] ${reason.message}`;
    return [reason];
  });
  if (failures.length === 1) throw failures[0]!;
  if (failures.length > 1) throw new AggregateError(failures, failures.map((failure) => failure.message).join('\n\n'));
}

/** Counts a signal sent, as survived when the whole test passes (after every assertion). */
function counted(what: string): void {
  onTestFinished(({ task }) => tally('fault', what, task.result?.state === 'pass'));
}

async function kubeContexts(lane: Lane): Promise<string[]> {
  const text = await readFile(path.join(lane.home, '.kube', 'config'), 'utf8');
  return ((parseYaml(text) as { contexts?: Array<{ name: string }> }).contexts ?? []).map((context) => context.name);
}

/** Every container, volume and network of `cluster` on an engine, by rootlet's label. */
async function resourcesOf(docker: Docker, engine: Engine, cluster: string): Promise<string[]> {
  const label = { label: [`dev.rootlet.cluster=${cluster}`] };
  const [containers, volumes, networks, nodes] = await Promise.all([
    docker.listContainers({ all: true, filters: label }),
    docker.listVolumes({ filters: label }),
    docker.listNetworks({ filters: label }),
    engine.listNodes(cluster),
  ]);
  return [
    ...containers.map((container) => `container ${container.Names.join(',')}`),
    ...(volumes.Volumes ?? []).map((volume) => `volume ${volume.Name}`),
    ...networks.map((network) => `network ${network.Name}`),
    ...nodes.map((node) => `node ${node.name}`),
  ];
}

/** The cluster that existed before: the same containers, never restarted, Ready, its kubeconfig context kept. */
async function expectBeforeUntouched(lane: Lane): Promise<void> {
  const now = await lane.engine.listNodes(lane.before);
  const shape = (nodes: NodeState[]) =>
    nodes.map((node) => ({ id: node.id, status: node.status, restarts: node.restarts })).sort((a, b) => (a.id < b.id ? -1 : 1));
  expect(shape(now)).toEqual(shape(lane.beforeNodes));
  const status = await rootlet(lane, ['status', '--name', lane.before, '--json']);
  expect(status.exitCode, status.stderr).toBe(0);
  expect((JSON.parse(status.stdout) as { clusters: Array<{ ready: boolean }> }).clusters[0]).toMatchObject({ ready: true });
  expect(await kubeContexts(lane)).toContain(`rootlet-${lane.before}`);
}

/** What every interrupted run must show: 130, the interrupted line, one error line, no trace. */
function expectInterrupted(run: Run): void {
  expect(run.exitCode, run.stderr).toBe(130);
  expect(run.stderr).toMatch(INTERRUPTED);
  expect(run.stderr).toMatch(/^error: interrupted$/m);
  expect(run.stderr).not.toMatch(STACK);
}

/**
 * The signal landed while the phase ran: its start was shown before the interrupted line, its end was not; and no
 * step started after it (`up`'s next task; for join, a host's next step: `[OUTPUT]`).
 */
function expectLandedIn(run: Run, started: RegExp, ended: RegExp, nextStep = /^\[STARTED\]/m): void {
  const [beforeSignal, afterSignal] = run.stderr.split(INTERRUPTED) as [string, string];
  expect(beforeSignal, run.stderr).toMatch(started);
  expect(beforeSignal, run.stderr).not.toMatch(ended);
  expect(afterSignal, run.stderr).not.toMatch(nextStep);
}

/**
 * `up` of a new cluster of a control plane and a worker. Its API server port is a free one: rootlet's own pick (the
 * first free from 6443) races with the other tests that make clusters on this machine at the same time.
 */
async function newCluster(lane: Lane, name: string): Promise<string[]> {
  return ['up', '--name', name, '--workers', '1', '--image', lane.image, '--wait', '60s', '--api-server-port', String(await freePort())];
}

interface Phase {
  what: string;
  /** The cluster's name: what makes the phase slow. */
  name: (lane: Lane, signal: string) => string;
  started: RegExp;
  ended: RegExp;
  delayMs: number;
  /** Default --skip-doctor. */
  flags?: string[];
}

const short = (lane: Lane, signal: string) => `${prefix}${lane.kind[0]!}${signal === 'SIGTERM' ? 't' : ''}`;
const PHASES: Phase[] = [
  {
    what: "the host's checks (doctor)",
    name: (lane, signal) => `${short(lane, signal)}-doctor`,
    started: /^\[STARTED\] Check this host \(rootlet doctor\)$/m,
    ended: /^\[STARTED\] Node image/m,
    delayMs: 0,
    // This machine's hybrid cgroups fail cgroup.v2 (ENVIRONMENT.md); every other check passes.
    flags: ['--ignore-check', 'cgroup.v2'],
  },
  {
    what: 'node creation and boot',
    name: (lane, signal) => `${short(lane, signal)}-slowboot`,
    started: /^\[STARTED\] Create and boot the nodes$/m,
    ended: /^\[STARTED\] Initialize the control plane/m,
    // The containers have been created and started by then; the worker boots for a minute.
    delayMs: 3000,
  },
  {
    what: 'kubeadm init',
    name: (lane, signal) => `standin-slowinit-${short(lane, signal)}`,
    started: /^\[STARTED\] Initialize the control plane/m,
    ended: /^\[STARTED\] Install the CNI/m,
    delayMs: 2000,
  },
  {
    what: 'the CNI',
    name: (lane, signal) => `${short(lane, signal)}-slowcni`,
    started: /^\[STARTED\] Install the CNI/m,
    ended: /^\[STARTED\] Join the workers/m,
    delayMs: 1500,
  },
  {
    what: 'joining the workers',
    name: (lane, signal) => `${short(lane, signal)}-slowjoin`,
    started: /^\[STARTED\] Join the workers/m,
    ended: /^\[STARTED\] Wait for the cluster/m,
    delayMs: 2000,
  },
  {
    what: 'the readiness wait',
    name: (lane, signal) => `standin-notready-${short(lane, signal)}`,
    started: /^\[STARTED\] Wait for the cluster to be ready/m,
    ended: /^\[STARTED\] Kubeconfig/m,
    delayMs: 2000,
  },
];

const lanes: Lane[] = [];
const kinds = (['podman', 'docker'] as const).filter((kind) => sockets[kind] !== undefined);

if (kinds.length < 2) {
  console.warn(MISSING_ENGINES);
  it.skip(`interrupted up and join: ${MISSING_ENGINES}`, () => undefined);
} else {
  beforeAll(async () => {
    await Promise.all(
      kinds.map(async (kind) => {
        const engine = await testEngine(kind, sockets[kind]!);
        const image = await ensureSlowImage(engine, await ensureStandinImage(engine));
        const user = USERS[kind];
        const uid = Number((await execa('id', ['-u', user])).stdout);
        const home = await mkdtemp(path.join(os.tmpdir(), `rootlet-e2e-interrupts-${kind}-`));
        await chown(home, uid, uid);
        const lane: Lane = { kind, user, uid, home, engine, docker: new Docker({ socketPath: sockets[kind] }), image, before: '', beforeNodes: [] };
        // Podman's is the control host of the join tests: published on its own address, with ports no other test uses.
        // Its name holds "slowboot": a node that joins it boots for a minute (its control plane does not).
        lane.before = kind === 'podman' && facts ? `${prefix}p-hosts-slowboot` : `${prefix}${kind[0]!}-before`;
        const args = ['up', '--name', lane.before, '--image', image, '--skip-doctor', '--wait', '60s', '--json', '--api-server-port', String(await freePort())];
        if (kind === 'podman' && facts) {
          const file = path.join(home, 'multi-host.yaml');
          const kubelet = await freePort();
          const vxlan = await freeUdpPort(facts.controlAddress);
          await writeFile(
            file,
            `apiVersion: rootlet.dev/v1alpha1\nkind: Cluster\nnetworking: {advertiseAddress: ${facts.controlAddress}, kubeletPort: ${kubelet}, vxlanPort: ${vxlan}}\n`,
          );
          args.push('-f', file);
        }
        const up = await rootlet(lane, args);
        expect(up.exitCode, up.stderr).toBe(0);
        lane.beforeNodes = await engine.listNodes(lane.before);
        lanes.push(lane);
      }),
    );
    lanes.sort((a, b) => (a.kind < b.kind ? 1 : -1));
  }, 240_000);

  afterAll(async () => {
    for (const lane of lanes) {
      for (const node of await lane.engine.listNodes()) if (node.cluster.includes(prefix)) await lane.engine.removeNode(node.name).catch(() => undefined);
      for (const network of await lane.docker.listNetworks())
        if (network.Name.startsWith('rootlet-') && network.Name.includes(prefix)) await lane.engine.removeNetwork(network.Name).catch(() => undefined);
    }
  }, 120_000);

  describe('Ctrl-C and SIGTERM during rootlet up, on rootless Podman and Docker at once', () => {
    /** One interrupted `up` of a new cluster (a control plane and a worker) and everything checked afterwards. */
    async function interruptUp(lane: Lane, phase: Phase, signal: Trigger['signal']): Promise<void> {
      const name = phase.name(lane, signal);
      const run = await rootlet(
        lane,
        [...(await newCluster(lane, name)), ...(phase.flags ?? ['--skip-doctor'])],
        [{ after: phase.started, signal, delayMs: phase.delayMs }],
      );
      expectInterrupted(run);
      expectLandedIn(run, phase.started, phase.ended);
      expect(await resourcesOf(lane.docker, lane.engine, name)).toEqual([]);
      expect(await kubeContexts(lane)).not.toContain(`rootlet-${name}`);
      await expectBeforeUntouched(lane);
    }

    for (const phase of PHASES)
      it(`SIGINT during ${phase.what}: exit 130, nothing of the new cluster left, the one from before untouched`, async () => {
        for (const lane of lanes) counted(`SIGINT during up: ${phase.what} (${lane.kind})`);
        await onEach(lanes, (lane) => interruptUp(lane, phase, 'SIGINT'));
      });

    it('SIGTERM during node boot (Podman) and during the readiness wait (Docker): the same as Ctrl-C', async () => {
      const phaseOf = (lane: Lane) => (lane.kind === 'podman' ? PHASES[1]! : PHASES[5]!);
      for (const lane of lanes) counted(`SIGTERM during up: ${phaseOf(lane).what} (${lane.kind})`);
      await onEach(lanes, (lane) => interruptUp(lane, phaseOf(lane), 'SIGTERM'));
    });

    it('SIGINT while the kubeconfig waits for its lock (kubectl holds it): stops the wait, exit 130, no context left', async () => {
      for (const lane of lanes) counted(`SIGINT during up: kubeconfig lock wait (${lane.kind})`);
      await onEach(lanes, async (lane) => {
        const name = `${prefix}${lane.kind[0]!}-lock`;
        // Another writer (kubectl, kind) holds the lock, alive: up waits up to 10 s for it.
        const lock = path.join(lane.home, '.kube', 'config.lock');
        await writeFile(lock, `${process.pid} ${os.hostname()}\n`, { mode: 0o644 });
        await chown(lock, lane.uid, lane.uid);
        try {
          const started = /^\[STARTED\] Kubeconfig$/m;
          const run = await rootlet(lane, [...(await newCluster(lane, name)), '--skip-doctor'], [{ after: started, signal: 'SIGINT', delayMs: 1000 }]);
          expectInterrupted(run);
          expectLandedIn(run, started, /^\[COMPLETED\] Kubeconfig/m);
          // Cleanup takes seconds; a wait for the lock that ignored the signal would take 9 more before it.
          expect(run.endedAt - run.sentAt[0]!).toBeLessThan(8000);
          expect(await resourcesOf(lane.docker, lane.engine, name)).toEqual([]);
          // The lock is still the other writer's.
          expect(await readFile(lock, 'utf8')).toBe(`${process.pid} ${os.hostname()}\n`);
        } finally {
          await rm(lock, { force: true });
        }
        expect(await kubeContexts(lane)).not.toContain(`rootlet-${name}`);
        await expectBeforeUntouched(lane);
      });
    });

    it('a second SIGINT during the cleanup exits 130 at once, names what may be left; rootlet down removes it', async () => {
      for (const lane of lanes) counted(`second SIGINT during up's cleanup (${lane.kind})`);
      await onEach(lanes, async (lane) => {
        const name = `standin-slowinit-${prefix}${lane.kind[0]!}2`;
        const run = await rootlet(
          lane,
          [...(await newCluster(lane, name)), '--skip-doctor'],
          [
            { after: /^\[STARTED\] Initialize the control plane/m, signal: 'SIGINT', delayMs: 2000 },
            { after: INTERRUPTED, signal: 'SIGINT' },
          ],
        );
        expect(run.exitCode, run.stderr).toBe(130);
        expect(run.sentAt, run.stderr).toHaveLength(2);
        expect(run.endedAt - run.sentAt[1]!).toBeLessThan(3000);
        expect(run.stderr).toContain(`\ninterrupted again: stopping without cleaning up; what this run made may be left: run \`rootlet down --name ${name}\``);
        expect(run.stderr).not.toMatch(STACK);
        // The cleanup had not got to the nodes yet: they are what is left.
        expect(await resourcesOf(lane.docker, lane.engine, name)).not.toEqual([]);
        const down = await rootlet(lane, ['down', '--name', name]);
        expect(down.exitCode, down.stderr).toBe(0);
        expect(await resourcesOf(lane.docker, lane.engine, name)).toEqual([]);
        expect(await kubeContexts(lane)).not.toContain(`rootlet-${name}`);
        await expectBeforeUntouched(lane);
      });
    });
  });

  if (!facts) {
    console.warn(MISSING_SSH);
    it.skip(`interrupted join: ${MISSING_SSH}`, () => undefined);
  } else {
    describe('Ctrl-C and SIGTERM during rootlet join (Podman control host, remote hosts over the test sshd)', () => {
      const podman = () => lanes.find((lane) => lane.kind === 'podman')!;
      const hostOf = (remote: SshRemote) => `${remote.user}@${remote.address}:${facts.port}`;
      let remotes: Array<{ remote: SshRemote; engine: Engine; docker: Docker }>;

      beforeAll(async () => {
        const lane = podman();
        const ssh = path.join(lane.home, '.ssh');
        await mkdir(ssh, { mode: 0o700, recursive: true });
        await copyFile(facts.key, path.join(ssh, 'id_ed25519'));
        await writeFile(path.join(ssh, 'known_hosts'), facts.remotes.map((remote) => `${knownHostsLine(facts, remote.address)}\n`).join(''));
        for (const file of [ssh, path.join(ssh, 'id_ed25519'), path.join(ssh, 'known_hosts')]) await chown(file, lane.uid, lane.uid);
        remotes = await Promise.all(
          facts.remotes.map(async (remote) => ({
            remote,
            engine: await testEngine(remote.engine, remote.socket),
            docker: new Docker({ socketPath: remote.socket }),
          })),
        );
      });

      afterAll(async () => {
        for (const { engine } of remotes ?? []) {
          for (const node of await engine.listNodes()) if (node.cluster.includes(prefix)) await engine.removeNode(node.name).catch(() => undefined);
          await engine.removeNetwork(`rootlet-${podman().before}`).catch(() => undefined);
        }
      }, 120_000);

      /** Nothing of the hosts is left (there, in the member list, in the cluster); the control plane is untouched. */
      async function expectNothingOfHosts(): Promise<void> {
        const lane = podman();
        for (const { docker, engine } of remotes) expect(await resourcesOf(docker, engine, lane.before)).toEqual([]);
        const members = await readFile(path.join(lane.home, '.local', 'state', 'rootlet', lane.before, 'hosts.json'), 'utf8').catch(() => '{"hosts":[]}');
        expect((JSON.parse(members) as { hosts: unknown[] }).hosts).toEqual([]);
        const nodes = await lane.engine.exec(`${lane.before}-control-plane`, ['kubectl', 'get', 'nodes', '-o', 'json']);
        expect(nodes.exitCode, nodes.stderr).toBe(0);
        expect((JSON.parse(nodes.stdout) as { items: Array<{ metadata: { name: string } }> }).items.map((item) => item.metadata.name)).toEqual([
          `${lane.before}-control-plane`,
        ]);
        await expectBeforeUntouched(lane);
      }

      const join = (hosts: string[], triggers: Trigger[]) =>
        rootlet(podman(), ['join', '--name', podman().before, ...hosts, '--ignore-check', 'cgroup.v2', '--wait', '60s'], triggers);

      it("SIGINT while connecting to one host, SIGTERM while another's checks run (two joins at once): exit 130, nothing of either", async () => {
        counted('SIGINT during join: connect');
        counted('SIGTERM during join: doctor over SSH');
        const checking = /checking the host \(rootlet doctor\)/;
        const [connecting, checked] = await Promise.all([
          join([hostOf(facts.remotes[1])], [{ after: /connecting/, signal: 'SIGINT' }]),
          join([hostOf(facts.remotes[0])], [{ after: checking, signal: 'SIGTERM' }]),
        ]);
        expectInterrupted(connecting);
        expectLandedIn(connecting, /connecting/, /finding its rootless engine/, JOIN_STEP);
        expectInterrupted(checked);
        expectLandedIn(checked, checking, /copying the node image|creating node/, JOIN_STEP);
        await expectNothingOfHosts();
      });

      it('SIGINT while both hosts’ nodes boot (Podman and Docker there): both removed, no member, no Node, exit 130', async () => {
        counted('SIGINT during join: node boot on two hosts');
        const booting = /creating node[\s\S]*creating node/;
        const run = await join(facts.remotes.map(hostOf), [{ after: booting, signal: 'SIGINT', delayMs: 3000 }]);
        expectInterrupted(run);
        expectLandedIn(run, booting, /joining \(kubeadm join\)/, JOIN_STEP);
        await expectNothingOfHosts();
      });
    });
  }
}
