/**
 * The engine dies in the middle of `rootlet up`, for real: rootlet-faults' own rootless Podman service or rootless
 * Docker daemon (with its RootlessKit) is SIGKILLed by scripts/engines/faults-engine.sh when a chosen step of `up` has
 * started. No other test uses that user's engines, so nothing running alongside loses its engine. rootlet must stop
 * with exit 4 and one error naming the engine and the step, and once the engine is back, what the error says to do
 * must complete the cluster.
 */
import { chown, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { EngineKind } from '../../src/engine/types.js';
import { asUser, ROOTLET } from '../support/cli.js';
import { faultsEngines, testEngine } from '../support/engines.js';
import { tally } from '../support/reliability.js';
import { ensureStandinImage } from '../support/standin-image.js';

const FAULTS_ENGINE = path.resolve(import.meta.dirname, '../../scripts/engines/faults-engine.sh');
const MISSING_FAULTS =
  'SKIPPED: no rootlet-faults engines on this machine; run `bash scripts/engines/provision.sh` as root (make test does). CI counts this skip as a failure.';
const KIND_NAMES: Record<EngineKind, string> = { podman: 'Podman', docker: 'Docker' };
/** A stack frame of our bundle or of Node: never part of what a user sees. */
const STACK_FRAME = /^\s+at .+(\.js|\.ts|node:internal).*$/m;

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Kills (SIGKILL, as a crash) or starts one of rootlet-faults' engines; returns once its socket is dead or answers. */
async function engineControl(action: 'kill' | 'start', kind: EngineKind): Promise<void> {
  await execa('bash', [FAULTS_ENGINE, action, kind]);
}

/** Waits until `check` holds, polling every `everyMs`; false when it never did within `timeoutMs`. */
async function until(check: () => Promise<boolean>, { timeoutMs, everyMs }: { timeoutMs: number; everyMs: number }): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(everyMs);
  }
  return false;
}

const faults = faultsEngines();

if (!faults) {
  console.warn(MISSING_FAULTS);
  it.skip(`the engine dies during rootlet up: ${MISSING_FAULTS}`, () => undefined);
} else {
  for (const kind of ['podman', 'docker'] as const) {
    describe(`rootless ${kind} dies during rootlet up (rootlet-faults' own engine)`, () => {
      const socket = faults.sockets[kind];
      const engineWords = `${KIND_NAMES[kind]} at ${socket}`;
      const prefix = `ed${process.pid.toString(36)}${kind.slice(0, 1)}`;
      let engine: Engine;
      let image: string;
      let home: string;
      let uid: number;

      /** The built CLI as rootlet-faults, on this engine; `inject` runs once stderr matches `when`. */
      async function rootlet(args: string[], fault?: { when: RegExp; inject: () => Promise<void> }): Promise<Run> {
        const child = execa(...asUser(faults!.user, uid, ['node', ROOTLET, ...args, '--engine', kind], { HOME: home, CI: '1' }), {
          reject: false,
          stdin: 'ignore',
        });
        let injected: Promise<void> | undefined;
        if (fault) {
          let seen = '';
          child.stderr.on('data', (chunk: Buffer) => {
            seen += chunk.toString();
            if (!injected && fault.when.test(seen)) injected = fault.inject();
          });
        }
        const result = await child;
        await injected;
        return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
      }

      const up = (name: string, fault?: { when: RegExp; inject: () => Promise<void> }) =>
        rootlet(['up', '--name', name, '--workers', '1', '--image', image, '--skip-doctor', '--wait', '60s', '--no-switch'], fault);

      /** What a user sees of an engine death: exit 4, one error naming the engine and the step, how to go on, no stack. */
      function expectEngineGone(run: Run, step: string): void {
        expect(run.exitCode, run.stderr).toBe(4);
        expect(run.stderr.match(/^error: /gm), run.stderr).toHaveLength(1);
        const error = /^error: (.*)$/m.exec(run.stderr)![1]!;
        expect(error).toMatch(new RegExp(`^${escape(engineWords)} stopped answering during "${escape(step)}" \\(rootlet was to .+\\)$`));
        expect(run.stderr).toMatch(/^hint: .*start the engine service again/m);
        expect(run.stderr).not.toMatch(STACK_FRAME);
      }

      /** `status` of the cluster: exit code and the parsed JSON (undefined unless it printed some). */
      async function statusOf(name: string): Promise<{ exitCode: number; ready?: boolean; nodes?: unknown[]; stderr: string }> {
        const run = await rootlet(['status', '--name', name, '--json']);
        if (run.exitCode !== 0) return { exitCode: run.exitCode, stderr: run.stderr };
        const [cluster] = (JSON.parse(run.stdout) as { clusters: Array<{ ready: boolean; nodes: unknown[] }> }).clusters;
        return { exitCode: 0, ready: cluster!.ready, nodes: cluster!.nodes, stderr: run.stderr };
      }

      beforeAll(async () => {
        await engineControl('start', kind);
        engine = await testEngine(kind, socket);
        image = await ensureStandinImage(engine);
        uid = Number((await execa('id', ['-u', faults.user])).stdout);
        home = await mkdtemp(path.join(os.tmpdir(), `rootlet-enginedeath-${kind}-`));
        await chown(home, uid, uid);
      }, 240_000);

      afterAll(async () => {
        // A failed test may have left the engine down: the next run (and this cleanup) need it.
        await engineControl('start', kind);
        engine = await testEngine(kind, socket);
        const clusters = new Set<string>();
        for (const node of await engine.listNodes()) {
          if (!node.cluster.startsWith(prefix)) continue;
          clusters.add(node.cluster);
          await engine.removeNode(node.name).catch(() => undefined);
        }
        for (const cluster of clusters) {
          await engine.removeNetwork(`rootlet-${cluster}`, { 'dev.rootlet.cluster': cluster }).catch(() => undefined);
          await engine.removeOrphanVolumes(cluster).catch(() => undefined);
        }
      }, 120_000);

      it('killed while the nodes boot: exit 4 naming the engine and the step; status and down say the engine is down; up again completes the cluster', async () => {
        const name = `${prefix}-boot`;
        onTestFinished(({ task }) => {
          const survived = task.result?.state === 'pass';
          tally('fault', `${kind} engine killed while the nodes boot: exit 4, up again completes the cluster`, survived);
          tally('fault', `rootlet status with the ${kind} engine down: exit 4`, survived);
          tally('fault', `rootlet down with the ${kind} engine down: exit 4`, survived);
        });
        let killedWhile = '';
        const first = await up(name, {
          when: /\[STARTED\] Create and boot the nodes/,
          inject: async () => {
            // Both containers started: their boot (systemd, in the stand-in a second) is being waited for.
            const started = await until(async () => (await engine.listNodes(name)).filter((node) => node.status === 'running').length === 2, {
              timeoutMs: 30_000,
              everyMs: 50,
            });
            killedWhile = started ? 'both nodes started, booting' : 'nodes not seen running';
            await engineControl('kill', kind);
          },
        });
        expect(killedWhile).toBe('both nodes started, booting');
        expectEngineGone(first, 'Create and boot the nodes');
        expect(first.stderr).toMatch(new RegExp(`^hint: .*what this run created is kept for it \\(\`rootlet down --name ${name}\` removes it instead\\)`, 'm'));

        // With the engine down, status and down cannot look: exit 4, saying which engine did not answer.
        const status = await rootlet(['status', '--name', name]);
        const down = await rootlet(['down', '--name', name]);
        for (const run of [status, down]) {
          expect(run.exitCode, run.stderr).toBe(4);
          expect(run.stderr).toMatch(
            new RegExp(
              `^error: no rootless ${KIND_NAMES[kind]} answered; tried ${escape(socket)} \\([^)]*\\): nothing listening \\(the engine service is stopped\\)$`,
              'm',
            ),
          );
          expect(run.stderr).toMatch(/^hint: start a rootless engine as this user/m);
          expect(run.stderr).not.toMatch(STACK_FRAME);
        }

        await engineControl('start', kind);
        const again = await up(name);
        expect(again.exitCode, again.stderr).toBe(0);
        const after = await statusOf(name);
        expect(after, after.stderr).toMatchObject({ exitCode: 0, ready: true });
        expect(after.nodes).toHaveLength(2);
        expect((await rootlet(['down', '--name', name])).exitCode).toBe(0);
        expect(await engine.listNodes(name)).toEqual([]);
      });

      it('killed while kubeadm init runs: exit 4 naming the engine and the step, saying to remove the half-done init; down and up again complete it', async () => {
        const name = `${prefix}-init`;
        onTestFinished(({ task }) =>
          tally('fault', `${kind} engine killed while kubeadm init runs: exit 4, down and up again complete the cluster`, task.result?.state === 'pass'),
        );
        let killedWhile = '';
        const first = await up(name, {
          when: /\[STARTED\] Initialize the control plane/,
          inject: async () => {
            // The control plane's processes are rootlet-faults' own on the host (a rootless node's root is that user).
            const running = await until(
              async () => (await execa('pgrep', ['-u', String(uid), '-f', 'kubeadm init --config'], { reject: false })).exitCode === 0,
              {
                timeoutMs: 30_000,
                everyMs: 20,
              },
            );
            killedWhile = running ? 'kubeadm init running' : 'kubeadm init not seen';
            await engineControl('kill', kind);
          },
        });
        expect(killedWhile).toBe('kubeadm init running');
        expectEngineGone(first, 'Initialize the control plane (kubeadm init)');
        expect(first.stderr).toMatch(
          new RegExp(
            `^hint: kubeadm init on ${name}-control-plane was cut off, which a re-run cannot continue: start the engine service again, then \`rootlet down --name ${name}\` and run up again`,
            'm',
          ),
        );

        await engineControl('start', kind);
        const down = await rootlet(['down', '--name', name]);
        expect(down.exitCode, down.stderr).toBe(0);
        const again = await up(name);
        expect(again.exitCode, again.stderr).toBe(0);
        const after = await statusOf(name);
        expect(after, after.stderr).toMatchObject({ exitCode: 0, ready: true });
        expect(after.nodes).toHaveLength(2);
        expect((await rootlet(['down', '--name', name])).exitCode).toBe(0);
      });
    });
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
