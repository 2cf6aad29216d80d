/**
 * Node containers removed behind rootlet's back, through the engine's API as `docker rm -f` does it, on rootless
 * Docker (the rootlet-docker user) with the stand-in node image: `status` shows what is missing; `up` makes a removed
 * worker anew under its name and joins it again, its stale Node object out of the way; a removed control plane is
 * named as gone, with down-then-up as the way on, and `up` touches nothing of what is left.
 */
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { rootletAs, type CliResult } from '../support/cli.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { tally } from '../support/reliability.js';
import { ensureStandinImage } from '../support/standin-image.js';

const USER = 'rootlet-docker';
const socket = engineSockets().docker;

interface StatusJson {
  clusters: Array<{
    name: string;
    ready: boolean;
    nodes: Array<{ name: string; host: string; container: string; ready: boolean | undefined }>;
    problems: string[];
  }>;
}

/** Counts the fault once the test has run: survived when every assertion held. */
function fault(what: string): void {
  onTestFinished(({ task }) => tally('fault', `node removed behind rootlet's back: ${what}`, task.result?.state === 'pass'));
}

if (!socket) {
  console.warn(MISSING_ENGINES);
  it.skip(`nodes removed behind rootlet's back: ${MISSING_ENGINES}`, () => undefined);
} else {
  describe("nodes removed behind rootlet's back (rootless Docker)", () => {
    const name = `nm${process.pid.toString(36)}`;
    const controlPlane = `${name}-control-plane`;
    const worker2 = `${name}-worker2`;
    const docker = new Docker({ socketPath: socket });
    let engine: Engine;
    let image: string;
    let rootlet: (args: string[]) => Promise<CliResult>;
    let home: string;

    const upArgs = (workers: number) => ['up', '--name', name, '--workers', String(workers), '--image', image, '--skip-doctor', '--wait', '60s', '--json'];
    const nodesOf = async () => (await engine.listNodes(name)).map((node) => node.name).sort();
    const volumesOf = async () =>
      ((await docker.listVolumes({ filters: { label: [`dev.rootlet.cluster=${name}`] } })).Volumes ?? []).map((volume) => volume.Name).sort();
    async function status(): Promise<StatusJson['clusters'][number]> {
      const run = await rootlet(['status', '--name', name, '--json']);
      expect(run.exitCode, run.stderr).toBe(0);
      const [cluster] = (JSON.parse(run.stdout) as StatusJson).clusters;
      return cluster!;
    }
    /** The Node objects the control plane's API server holds, by name. */
    async function registered(): Promise<string[]> {
      const answer = await engine.exec(controlPlane, ['kubectl', 'get', 'nodes', '-o', 'json']);
      expect(answer.exitCode, answer.stderr).toBe(0);
      return (JSON.parse(answer.stdout) as { items: Array<{ metadata: { name: string } }> }).items.map((item) => item.metadata.name).sort();
    }

    beforeAll(async () => {
      engine = await testEngine('docker', socket);
      image = await ensureStandinImage(engine);
      const uid = Number((await execa('id', ['-u', USER])).stdout);
      home = await mkdtemp(path.join(os.tmpdir(), 'rootlet-e2e-node-missing-'));
      await chown(home, uid, uid);
      rootlet = rootletAs(USER, uid, home);
    }, 180_000);

    afterAll(async () => {
      for (const node of await engine.listNodes(name)) await engine.removeNode(node.name).catch(() => undefined);
      await engine.removeOrphanVolumes(name).catch(() => undefined);
      await engine.removeNetwork(`rootlet-${name}`).catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    });

    it('brings up a control plane and two workers', async () => {
      const up = await rootlet(upArgs(2));
      expect(up.exitCode, up.stderr).toBe(0);
      expect(await nodesOf()).toEqual([controlPlane, `${name}-worker`, worker2]);
    }, 180_000);

    it('status shows a worker whose container was removed as missing, with what to run', async () => {
      fault('a worker container removed (status)');
      await docker.getContainer(worker2).remove({ force: true });
      const cluster = await status();
      expect(cluster.ready).toBe(false);
      expect(cluster.nodes.find((node) => node.name === worker2)).toMatchObject({ host: 'local', container: 'missing' });
      expect(cluster.problems).toContain(
        `node ${worker2} is missing on this host (its container was removed): \`rootlet up --name ${name}\` with the same --workers creates it again`,
      );
    }, 60_000);

    it('up with the same flags makes the worker anew and joins it again under its name; everything Ready', async () => {
      fault('a worker container removed (up)');
      const up = await rootlet(upArgs(2));
      expect(up.exitCode, up.stderr).toBe(0);
      const result = JSON.parse(up.stdout) as { initialized: boolean; nodes: Array<{ name: string; action: string }>; notes: string[] };
      expect(result.initialized).toBe(false);
      expect(Object.fromEntries(result.nodes.map((node) => [node.name, node.action]))).toEqual({
        [controlPlane]: 'kept',
        [`${name}-worker`]: 'kept',
        [worker2]: 'created',
      });
      expect(result.notes).toContain(`made ${worker2} anew: its container was gone`);
      expect(await nodesOf()).toEqual([controlPlane, `${name}-worker`, worker2]);
      expect(await registered()).toEqual([controlPlane, `${name}-worker`, worker2]);
      // Joined for real this time: the new container has its own kubelet.conf.
      expect((await engine.exec(worker2, ['test', '-f', '/etc/kubernetes/kubelet.conf'])).exitCode).toBe(0);
      const cluster = await status();
      expect(cluster.problems).toEqual([]);
      expect(cluster.ready).toBe(true);
      expect(cluster.nodes.map((node) => [node.name, node.container, node.ready])).toEqual(
        [controlPlane, `${name}-worker`, worker2].map((node) => [node, 'running', true]),
      );
    }, 180_000);

    it('a removed control plane: up names it gone and what to do, touching nothing; down then up makes a new cluster', async () => {
      fault('the control plane container removed');
      await docker.getContainer(controlPlane).remove({ force: true });
      const cluster = await status();
      expect(cluster.ready).toBe(false);
      expect(cluster.problems).toContain('no control-plane node');

      const volumes = await volumesOf();
      const up = await rootlet(upArgs(2).filter((arg) => arg !== '--json'));
      expect(up.exitCode, up.stderr).toBe(1);
      expect(up.stderr).toContain(
        `error: the control plane of cluster ${name} is gone: its container ${controlPlane} was removed, and the cluster cannot be repaired without it\n`,
      );
      expect(up.stderr).toContain(`left of it: ${name}-worker, ${worker2}`);
      expect(up.stderr).toMatch(
        new RegExp(`^hint: remove what is left with \`rootlet down --name ${name}\`, then \`rootlet up\` creates the cluster anew$`, 'm'),
      );
      expect(up.stderr).not.toMatch(/at .*\.js:\d+/);
      // Nothing created, nothing removed: the workers and every volume (the control plane's /var among them) are as they were.
      expect(await nodesOf()).toEqual([`${name}-worker`, worker2]);
      expect(await volumesOf()).toEqual(volumes);

      const down = await rootlet(['down', '--name', name]);
      expect(down.exitCode, down.stderr).toBe(0);
      expect(await nodesOf()).toEqual([]);
      expect(await volumesOf()).toEqual([]);
      const again = await rootlet(upArgs(0));
      expect(again.exitCode, again.stderr).toBe(0);
      expect((JSON.parse(again.stdout) as { initialized: boolean }).initialized).toBe(true);
      expect((await status()).ready).toBe(true);
    }, 240_000);

    it('a removed control plane with no workers (its /var volume left): up names it gone too, and creates nothing', async () => {
      fault('the only node (control plane) removed');
      await docker.getContainer(controlPlane).remove({ force: true });
      const up = await rootlet(upArgs(0));
      expect(up.exitCode, up.stderr).toBe(1);
      const error = (JSON.parse(up.stdout || '{}') as { error?: { code: string; message: string; details?: string[]; hint: string } }).error;
      expect(error).toMatchObject({
        code: 'no-control-plane',
        message: `the control plane of cluster ${name} is gone: its container ${controlPlane} was removed, and the cluster cannot be repaired without it`,
        details: ['left of it: its /var volume'],
      });
      expect(error!.hint).toContain(`rootlet down --name ${name}`);
      expect(await nodesOf()).toEqual([]);
      expect(await volumesOf()).toEqual([`${controlPlane}-var`]);
      const down = await rootlet(['down', '--name', name]);
      expect(down.exitCode, down.stderr).toBe(0);
      expect(await volumesOf()).toEqual([]);
    }, 180_000);
  });
}
