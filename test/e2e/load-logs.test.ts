/**
 * `rootlet load` and `rootlet logs` on a real rootless engine of each kind, as the engine's own user: images built
 * in the user's engine stream into the nodes' containerd (the stand-in `ctr` checks each archive and records what it
 * received), and the logs of every node land in 0600 files without a token in them.
 */
import { createWriteStream } from 'node:fs';
import { chown, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { EngineKind } from '../../src/engine/types.js';
import { rootletAs, type CliResult } from '../support/cli.js';
import { buildAppImage } from '../support/app-image.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { ensureStandinImage } from '../support/standin-image.js';

const USERS: Record<EngineKind, string> = { podman: 'rootlet-podman', docker: 'rootlet-docker' };
const TOKEN = /[a-z0-9]{6}\.[a-z0-9]{16}/;

interface NodeLoad {
  node: string;
  host: string;
  item: string;
  outcome: string;
  error?: { message: string; exitCode: number };
}

for (const kind of ['podman', 'docker'] as const) {
  const socket = engineSockets()[kind];
  if (!socket) {
    console.warn(MISSING_ENGINES);
    it.skip(`rootless ${kind}: ${MISSING_ENGINES}`, () => undefined);
    continue;
  }
  describe(`rootlet load and logs on rootless ${kind}`, () => {
    const name = `l${process.pid.toString(36)}${kind.slice(0, 1)}`;
    const controlPlane = `${name}-control-plane`;
    const worker = `${name}-worker`;
    const app = `rootlet-load-${name}:1`;
    let engine: Engine;
    let appId: string;
    let home: string;
    let rootlet: (args: string[]) => Promise<CliResult>;
    let up: CliResult;

    /** The name `podman build` gives a local build (its Docker API would say docker.io/library/): what users have. */
    const built = (tag: string) => (kind === 'podman' ? `localhost/${tag}` : tag);
    const loads = (run: CliResult): NodeLoad[] => (JSON.parse(run.stdout) as { nodes: NodeLoad[] }).nodes;
    /** What the stand-in ctr of a node received, one line per import or tag. */
    const received = async (node: string) => (await engine.copyOut(node, '/var/lib/standin/images.log').catch(() => Buffer.from(''))).toString();
    const inspecti = async (node: string, ref: string) => {
      const answer = await engine.exec(node, ['crictl', 'inspecti', '-o', 'json', ref]);
      return answer.exitCode === 0 ? (JSON.parse(answer.stdout) as { status: { id: string; repoTags: string[] } }).status : undefined;
    };

    beforeAll(async () => {
      engine = await testEngine(kind, socket);
      const image = await ensureStandinImage(engine);
      appId = await buildAppImage(engine, built(app), `app of ${name}\n`);
      const uid = Number((await execa('id', ['-u', USERS[kind]])).stdout);
      home = await mkdtemp(path.join(os.tmpdir(), `rootlet-e2e-load-${kind}-`));
      await chown(home, uid, uid);
      rootlet = rootletAs(USERS[kind], uid, home);
      up = await rootlet(['up', '--name', name, '--workers', '1', '--image', image, '--skip-doctor', '--wait', '60s', '--verbose']);
      expect(up.exitCode, up.stderr).toBe(0);
    }, 240_000);

    afterAll(async () => {
      for (const node of await engine.listNodes(name)) await engine.removeNode(node.name).catch(() => undefined);
      await engine.removeNetwork(`rootlet-${name}`).catch(() => undefined);
      const docker = new Docker({ socketPath: socket });
      for (const version of [1, 2, 3, 4])
        await docker
          .getImage(built(`rootlet-load-${name}:${version}`))
          .remove({ force: true })
          .catch(() => undefined);
    });

    it('up --verbose showed every command run in the nodes, the token never', () => {
      expect(up.stderr).toMatch(new RegExp(`^  \\[${controlPlane}\\] \\$ kubeadm init --config /kind/rootlet-init\\.yaml .* -> exit 0, \\d+ ms$`, 'm'));
      expect(up.stderr).toMatch(new RegExp(`^  \\[${worker}\\] \\$ kubeadm join --config /kind/rootlet-join\\.yaml`, 'm'));
      expect(up.stderr).not.toMatch(TOKEN);
    });

    it('streams an image into every node, under the name a pod uses', async () => {
      const run = await rootlet(['load', '--name', name, app, '--json']);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(loads(run).map((load) => [load.node, load.outcome])).toEqual([
        [controlPlane, 'loaded'],
        [worker, 'loaded'],
      ]);
      for (const node of [controlPlane, worker]) {
        // A pod asking for rootlet-load-...:1 gets docker.io/library/...: it resolves to the engine's image.
        const image = await inspecti(node, app);
        expect(image?.id).toBe(`sha256:${appId}`);
        expect(image?.repoTags).toContain(`docker.io/library/${app}`);
        const log = await received(node);
        expect(log.match(/^import /gm)).toHaveLength(1);
        expect(log).toContain('snapshotter=overlayfs');
      }
      if (kind === 'podman') {
        // Podman names the build localhost/...: the pod's name is tagged onto it.
        expect(await received(worker)).toContain(`tag localhost/${app} docker.io/library/${app}`);
      }
    });

    it('skips nodes that have it already, and loads only the nodes asked for', async () => {
      const again = await rootlet(['load', '--name', name, app, '--json']);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(loads(again).map((load) => load.outcome)).toEqual(['present', 'present']);
      expect((await received(worker)).match(/^import /gm)).toHaveLength(1);

      const second = `rootlet-load-${name}:2`;
      const secondId = await buildAppImage(engine, built(second), `second app of ${name}\n`);
      const only = await rootlet(['load', '--name', name, second, '--nodes', worker, '--json']);
      expect(only.exitCode, only.stderr).toBe(0);
      expect(loads(only).map((load) => [load.node, load.outcome])).toEqual([[worker, 'loaded']]);
      expect((await inspecti(worker, second))?.id).toBe(`sha256:${secondId}`);
      expect(await inspecti(controlPlane, second)).toBeUndefined();
    });

    it('loads a saved archive (docker save / podman save) from a file', async () => {
      const third = `rootlet-load-${name}:3`;
      const thirdId = await buildAppImage(engine, built(third), `third app of ${name}\n`);
      const archive = path.join(home, 'third.tar');
      await pipeline(await engine.exportImage(built(third)), createWriteStream(archive));
      const owner = await stat(home);
      await chown(archive, owner.uid, owner.gid);
      const loaded = await rootlet(['load', '--name', name, '--archive', archive, '--json']);
      expect(loaded.exitCode, loaded.stderr).toBe(0);
      expect(loads(loaded).map((load) => load.outcome)).toEqual(['loaded', 'loaded']);
      for (const node of [controlPlane, worker]) expect((await inspecti(node, kind === 'podman' ? `localhost/${third}` : third))?.id).toBe(`sha256:${thirdId}`);
      const again = await rootlet(['load', '--name', name, '--archive', archive, '--json']);
      expect(loads(again).map((load) => load.outcome)).toEqual(['present', 'present']);
    });

    it('loads the nodes that can take it when one cannot, and finishes on a re-run', async () => {
      const fourth = `rootlet-load-${name}:4`;
      await buildAppImage(engine, built(fourth), `fourth app of ${name}\n`);
      const docker = new Docker({ socketPath: socket });
      await docker.getContainer(worker).stop({ t: 0 });
      const partial = await rootlet(['load', '--name', name, fourth, '--json']);
      expect(partial.exitCode).toBe(1);
      const outcomes = loads(partial);
      expect(outcomes.map((load) => [load.node, load.outcome])).toEqual([
        [controlPlane, 'loaded'],
        [worker, 'failed'],
      ]);
      expect(outcomes[1]!.error?.message).toMatch(new RegExp(`^node ${worker} is (exited|stopped)`));
      await engine.startNode(worker);
      const rerun = await rootlet(['load', '--name', name, fourth, '--json']);
      expect(rerun.exitCode, rerun.stderr).toBe(0);
      expect(loads(rerun).map((load) => [load.node, load.outcome])).toEqual([
        [controlPlane, 'present'],
        [worker, 'loaded'],
      ]);
    });

    it('says what is wrong when the image, the node or the archive is not there', async () => {
      const missing = await rootlet(['load', '--name', name, 'no-such-image:0']);
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toMatch(/^error: image no-such-image:0 is not in /m);
      expect(missing.stderr).toMatch(/^hint: build or pull it there first/m);
      const node = await rootlet(['load', '--name', name, app, '--nodes', 'nope']);
      expect(node.exitCode).toBe(2);
      expect(node.stderr).toContain(`cluster ${name} has no node nope`);
      const file = path.join(home, 'not-an-archive.tar');
      await writeFile(file, 'not a tar\n'.repeat(100));
      const owner = await stat(home);
      await chown(file, owner.uid, owner.gid);
      const archive = await rootlet(['load', '--name', name, '--archive', file]);
      expect(archive.exitCode).toBe(2);
      expect(archive.stderr).toMatch(/^error: cannot read the image archive .*not-an-archive\.tar/m);
      for (const run of [missing, node, archive]) expect(run.stderr).not.toMatch(/at .*\.js:\d+/);
    });

    it('collects every node’s logs into 0600 files, and an archive, with no token in them', async () => {
      const dir = path.join(home, 'logs');
      const run = await rootlet(['logs', '--name', name, dir]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout.trim()).toBe(dir);
      const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
      const relative = files.map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name))).sort();
      for (const node of [controlPlane, worker])
        for (const file of ['inspect.json', 'console.log', 'crictl-images.txt', 'journal.log', 'kubernetes-version.txt', 'kubeadm.yaml'])
          expect(relative).toContain(`${node}/${file}`);
      for (const file of ['rootlet-version.txt', 'doctor.json', 'cluster.json', 'kubectl/nodes.json', `engines/this-host.json`])
        expect(relative).toContain(file);
      expect(JSON.parse(await readFile(path.join(dir, controlPlane, 'inspect.json'), 'utf8'))).toMatchObject({
        Name: expect.stringContaining(controlPlane) as unknown,
      });
      expect(await readFile(path.join(dir, 'kubectl/nodes.json'), 'utf8')).toContain(worker);
      // The configuration kubeadm was given, its token redacted.
      expect(await readFile(path.join(dir, worker, 'kubeadm.yaml'), 'utf8')).toMatch(/kind: JoinConfiguration[\s\S]*token: <redacted>/);
      expect(await readFile(path.join(dir, controlPlane, 'kubeadm.yaml'), 'utf8')).toMatch(/kind: InitConfiguration[\s\S]*token: <redacted>/);
      expect(await readFile(path.join(dir, worker, 'crictl-images.txt'), 'utf8')).toContain(app.split(':')[0]);
      for (const entry of files) {
        const file = path.join(entry.parentPath, entry.name);
        expect((await stat(file)).mode & 0o777, file).toBe(0o600);
        expect(await readFile(file, 'utf8'), file).not.toMatch(TOKEN);
      }
      expect((await stat(dir)).mode & 0o777).toBe(0o700);

      const again = await rootlet(['logs', '--name', name, dir]);
      expect(again.exitCode).toBe(2);
      expect(again.stderr).toContain('exists already');

      const archived = await rootlet(['logs', '--name', name, '--archive', path.join(home, 'ci-logs')]);
      expect(archived.exitCode, archived.stderr).toBe(0);
      const tarball = path.join(home, 'ci-logs.tar.gz');
      expect(archived.stdout.trim()).toBe(tarball);
      expect((await stat(tarball)).mode & 0o777).toBe(0o600);
      const listing = (await execa('tar', ['-tzf', tarball])).stdout.split('\n');
      expect(listing).toContain(`ci-logs/${controlPlane}/inspect.json`);
    });
  });
}
