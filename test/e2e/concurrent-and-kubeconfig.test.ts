/**
 * Issue 7's concurrency and kubeconfig faults, injected for real as rootlet-podman on its rootless Podman with the
 * stand-in node image: two `rootlet up` of one cluster at once, `down` racing `up`, a kubeconfig path in a read-only
 * directory and on a full filesystem (a 64 KiB tmpfs, mounted by the test as root), and a kubeconfig others could read.
 */
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Engine } from '../../src/engine/engine.js';
import { asUser, ROOTLET } from '../support/cli.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { tally } from '../support/reliability.js';
import { ensureStandinImage } from '../support/standin-image.js';

const USER = 'rootlet-podman';
const STACK = /^\s+at .*[:(]\d+|node:internal/m;
const socket = engineSockets().podman;

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A started CLI run: its pid (setpriv and env exec node, so it is rootlet's), what it printed so far, and its end. */
interface Started {
  pid: number;
  stderr: () => string;
  done: Promise<Run>;
}

if (!socket) {
  console.warn(MISSING_ENGINES);
  it.skip(`rootless podman: ${MISSING_ENGINES}`, () => undefined);
} else {
  describe('concurrent up and down, and a kubeconfig that cannot be written (rootless Podman, stand-in node image)', () => {
    const prefix = `li${process.pid.toString(36)}`;
    let engine: Engine;
    let image: string;
    let home: string;
    let uid: number;
    const mounts: string[] = [];

    function start(args: string[], env: Record<string, string> = {}): Started {
      const child: ResultPromise = execa(...asUser(USER, uid, ['node', ROOTLET, ...args], { HOME: home, CI: '1', ...env }), {
        reject: false,
        stdin: 'ignore',
      });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return {
        pid: child.pid!,
        stderr: () => stderr,
        done: child.then((result) => ({ exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) })),
      };
    }

    const rootlet = (args: string[], env: Record<string, string> = {}) => start(args, env).done;
    const up = (name: string, extra: string[] = []) => ['up', '--name', name, '--image', image, '--skip-doctor', '--wait', '90s', ...extra];

    async function until(what: string, test: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!(await test())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    const nodesOf = async (name: string) => (await engine.listNodes(name)).map((node) => node.name).sort();
    const controlPlanes = async (name: string) => (await engine.listNodes(name)).filter((node) => node.role === 'control-plane').length;

    /** Counts the cluster's control-plane containers every 200 ms until stopped: the most seen at once. */
    function watchControlPlanes(name: string): { stop: () => Promise<number> } {
      let most = 0;
      let running = true;
      const loop = (async () => {
        while (running) {
          most = Math.max(most, await controlPlanes(name).catch(() => 0));
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      return {
        stop: async () => {
          running = false;
          await loop;
          return most;
        },
      };
    }

    async function readyStatus(name: string): Promise<{ ready: boolean; nodes: unknown[] }> {
      const status = await rootlet(['status', '--name', name, '--json']);
      expect(status.exitCode, status.stderr).toBe(0);
      return (JSON.parse(status.stdout) as { clusters: Array<{ ready: boolean; nodes: unknown[] }> }).clusters[0]!;
    }

    /** A directory of the user's, made by root. */
    async function userDir(name: string, mode = 0o700): Promise<string> {
      const dir = path.join(home, name);
      await mkdir(dir, { recursive: true });
      await chown(dir, uid, uid);
      await chmod(dir, mode);
      return dir;
    }

    beforeAll(async () => {
      engine = await testEngine('podman', socket);
      image = await ensureStandinImage(engine);
      uid = Number((await execa('id', ['-u', USER])).stdout);
      home = await mkdtemp(path.join(os.tmpdir(), 'rootlet-e2e-lockinput-'));
      await chown(home, uid, uid);
    }, 180_000);

    afterAll(async () => {
      for (const dir of mounts) await execa('umount', [dir], { reject: false });
      for (const node of await engine.listNodes()) if (node.cluster.startsWith(prefix)) await engine.removeNode(node.name).catch(() => undefined);
      for (const name of ['twice', 'race', 'order', 'kc']) await engine.removeNetwork(`rootlet-${prefix}-${name}`).catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    }, 120_000);

    describe('two runs of one cluster at once', () => {
      const name = `${prefix}-twice`;

      it('two ups started together: one creates, the other waits for it and then reconciles; one control plane', async () => {
        const watch = watchControlPlanes(name);
        const first = start(up(name));
        const second = start(up(name));
        // While one waits, a third asking not to wait (--wait 0) is refused at once, naming who is at work.
        const waiting = /^waiting for rootlet up \(pid (\d+)\) to finish with cluster \S+ \(up to 90s; it holds (\S+)\)$/m;
        await until('one up to wait for the other', () => waiting.test(first.stderr()) || waiting.test(second.stderr()));
        const refused = await rootlet(up(name).map((arg) => (arg === '90s' ? '0' : arg)));
        const [one, two] = await Promise.all([first.done, second.done]);
        const most = await watch.stop();

        for (const run of [one, two, refused]) expect(run.stderr).not.toMatch(STACK);
        expect(one.exitCode, one.stderr).toBe(0);
        expect(two.exitCode, two.stderr).toBe(0);
        const [waiter, holder] = waiting.test(one.stderr) ? [one, two] : [two, one];
        const holderPid = waiting.test(one.stderr) ? second.pid : first.pid;
        expect(waiting.test(holder.stderr), 'only one of them waited').toBe(false);
        const [, pid, lock] = waiting.exec(waiter.stderr)!;
        expect(Number(pid)).toBe(holderPid);
        expect(lock).toBe(path.join(home, '.local', 'state', 'rootlet', name, 'lock'));
        expect(holder.stdout).toMatch(new RegExp(`^Cluster ${name} is up: 1 control plane`, 'm'));
        expect(waiter.stdout).toMatch(new RegExp(`^Cluster ${name} is up \\(reconciled: existing nodes kept\\)`, 'm'));

        expect(refused.exitCode, refused.stderr).toBe(1);
        expect(refused.stderr).toMatch(new RegExp(`^error: cluster ${name} is busy: rootlet up \\(pid \\d+\\) is working on it$`, 'm'));
        expect(refused.stderr).toMatch(
          new RegExp(`^hint: let it finish, then run \`rootlet up --name ${name}\` again; if no rootlet is running, remove ${lock}$`, 'm'),
        );

        expect(most).toBe(1);
        expect(await nodesOf(name)).toEqual([`${name}-control-plane`]);
        expect(await readyStatus(name)).toMatchObject({ ready: true, nodes: [expect.anything()] });
        expect(await readdir(path.dirname(lock!))).not.toContain('lock');
        tally('fault', 'two rootlet up of one cluster at once');
        tally('fault', 'a third up (--wait 0) while the cluster is busy');
      });

      it('up and down started together: whichever locks first finishes, the other then does its whole work', async () => {
        const upRun = start(up(name));
        const downRun = start(['down', '--name', name]);
        const [upped, downed] = await Promise.all([upRun.done, downRun.done]);
        for (const run of [upped, downed]) expect(run.stderr).not.toMatch(STACK);
        expect(upped.exitCode, upped.stderr).toBe(0);
        expect(downed.exitCode, downed.stderr).toBe(0);
        const upWaited = /^waiting for rootlet down \(pid \d+\) to finish with cluster /m.test(upped.stderr);
        const downWaited = /^waiting for rootlet up \(pid \d+\) to finish with cluster /m.test(downed.stderr);
        expect(upWaited && downWaited, 'both waited').toBe(false);
        // Up went first (whether or not down had to wait): it reconciled, then down removed everything.
        // Down went first: it removed the cluster, then up made it anew.
        const upFirst = /\(reconciled: existing nodes kept\)/.test(upped.stdout);
        expect(upWaited && upFirst, 'up waited for down, yet found the nodes down removes').toBe(false);
        expect(downWaited && !upFirst, 'down waited for up, yet up made the cluster anew').toBe(false);
        if (upFirst) {
          expect(downed.stderr).toContain(`removed ${name}-control-plane`);
          expect(await nodesOf(name)).toEqual([]);
        } else {
          expect(upped.stdout).toMatch(new RegExp(`^Cluster ${name} is up: 1 control plane`, 'm'));
          expect(await nodesOf(name)).toEqual([`${name}-control-plane`]);
          expect(await readyStatus(name)).toMatchObject({ ready: true });
        }
        expect((await rootlet(['down', '--name', name])).exitCode).toBe(0);
        expect(await nodesOf(name)).toEqual([]);
        tally('fault', `up and down of one cluster at once (${upFirst ? 'up' : 'down'} first)`);
      });

      it('a down started while an up is creating the cluster waits for it, then removes all of it', async () => {
        const order = `${prefix}-order`;
        const upRun = start(up(order, ['--workers', '1']));
        await until('up to create the nodes', () => /\[STARTED\] Create and boot the nodes/.test(upRun.stderr()), 120_000);
        const downRun = start(['down', '--name', order]);
        const [upped, downed] = await Promise.all([upRun.done, downRun.done]);
        for (const run of [upped, downed]) expect(run.stderr).not.toMatch(STACK);
        expect(upped.exitCode, upped.stderr).toBe(0);
        expect(upped.stdout).toMatch(new RegExp(`^Cluster ${order} is up: 1 control plane, 1 worker`, 'm'));
        expect(downed.exitCode, downed.stderr).toBe(0);
        expect(downed.stderr).toMatch(new RegExp(`^waiting for rootlet up \\(pid ${upRun.pid}\\) to finish with cluster ${order} `, 'm'));
        expect(downed.stderr).toMatch(new RegExp(`^${order}: removed (${order}-control-plane, ${order}-worker|${order}-worker, ${order}-control-plane)`, 'm'));
        expect(await nodesOf(order)).toEqual([]);
        tally('fault', 'down during an up of the same cluster');
      });
    });

    describe('a kubeconfig that cannot be written', () => {
      const name = `${prefix}-kc`;
      const hint = `hint: the cluster keeps running: \`rootlet kubeconfig --name ${name} --print > FILE\` writes its kubeconfig to FILE (then kubectl --kubeconfig FILE get nodes)`;

      /** The cluster runs and is Ready, and `rootlet kubeconfig --print` gives a kubeconfig kubectl reads. */
      async function expectRunningWithPrintableKubeconfig(): Promise<void> {
        expect(await nodesOf(name)).toEqual([`${name}-control-plane`]);
        expect(await readyStatus(name)).toMatchObject({ ready: true });
        const printed = await rootlet(['kubeconfig', '--name', name, '--print']);
        expect(printed.exitCode, printed.stderr).toBe(0);
        const file = path.join(home, `printed-${Date.now()}.kubeconfig`);
        await writeFile(file, printed.stdout, { mode: 0o600 });
        const view = await execa('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', file]);
        const config = JSON.parse(view.stdout) as {
          'current-context': string;
          clusters: Array<{ cluster: { server: string } }>;
          users: Array<{ user: Record<string, string> }>;
        };
        expect(config['current-context']).toBe(`rootlet-${name}`);
        expect(config.clusters[0]!.cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect(Object.keys(config.users[0]!.user).sort()).toEqual(['client-certificate-data', 'client-key-data']);
      }

      it('in a read-only directory: exit 1 naming the file, the cluster left running, kubeconfig --print works', async () => {
        const readOnly = await userDir('read-only', 0o500);
        const target = path.join(readOnly, 'config');
        const run = await rootlet(up(name), { KUBECONFIG: target });
        expect(run.stderr).not.toMatch(STACK);
        expect(run.exitCode, run.stderr).toBe(1);
        expect(run.stderr).toContain(`[SKIPPED] Kubeconfig [SKIPPED: not written to ${target}]`);
        const lines = run.stderr.split('\n');
        expect(lines.filter((line) => line.startsWith('error:'))).toEqual([
          `error: cluster ${name} is up, but its kubeconfig could not be written to ${target}: ${target}.lock: permission denied`,
        ]);
        expect(lines).toContain(`  fix: check the owner and permissions of ${target}.lock and its directory, or set KUBECONFIG to a file you can write`);
        expect(lines).toContain(hint);
        expect(await readdir(readOnly)).toEqual([]);
        await expectRunningWithPrintableKubeconfig();
        tally('fault', 'kubeconfig in a read-only directory');
      });

      it('on a full filesystem: exit 1 saying it is full, the cluster left running; a later up writes it', async () => {
        const full = await userDir('full');
        await execa('mount', ['-t', 'tmpfs', '-o', `size=64k,mode=0700,uid=${uid},gid=${uid}`, 'tmpfs', full]);
        mounts.push(full);
        // Filled by root: the user cannot free it either.
        await execa('sh', ['-c', `head -c 1048576 /dev/zero > ${full}/filler`], { reject: false });
        expect((await execa('df', ['--output=avail', full])).stdout.trim().split('\n')[1]!.trim()).toBe('0');
        const target = path.join(full, 'config');
        const run = await rootlet(up(name), { KUBECONFIG: target });
        expect(run.stderr).not.toMatch(STACK);
        expect(run.exitCode, run.stderr).toBe(1);
        expect(run.stdout).toBe('');
        const lines = run.stderr.split('\n');
        expect(lines.filter((line) => line.startsWith('error:'))).toEqual([
          `error: cluster ${name} is up, but its kubeconfig could not be written to ${target}: ${target}.lock: no space left on device`,
        ]);
        expect(lines).toContain(`  fix: the filesystem of ${full} is full: free some space, or set KUBECONFIG to a file you can write`);
        expect(lines).toContain(hint);
        expect((await readdir(full)).sort()).toEqual(['filler']);
        await expectRunningWithPrintableKubeconfig();
        // Space again: up (a reconcile) writes the kubeconfig, 0600.
        await rm(path.join(full, 'filler'));
        const again = await rootlet(up(name), { KUBECONFIG: target });
        expect(again.exitCode, again.stderr).toBe(0);
        expect(again.stdout).toContain(`context rootlet-${name} in ${target}`);
        expect((await stat(target)).mode & 0o777).toBe(0o600);
        tally('fault', 'kubeconfig on a full filesystem');
      });

      it('a kubeconfig others could read: a one-line warning, and it is 0600 afterwards', async () => {
        const shared = await userDir('shared');
        const target = path.join(shared, 'config');
        const other =
          'apiVersion: v1\nkind: Config\nclusters:\n- name: work\n  cluster: {server: "https://k8s.example.com"}\nusers:\n- name: work\n  user: {token: abc.def}\ncontexts:\n- name: work\n  context: {cluster: work, user: work}\ncurrent-context: work\n';
        await writeFile(target, other);
        await chown(target, uid, uid);
        await chmod(target, 0o644);
        const warning = `${target} had mode 0644: other users could read the credentials in it (rotate them if that matters); it is 0600 now`;
        const run = await rootlet(up(name), { KUBECONFIG: target });
        expect(run.exitCode, run.stderr).toBe(0);
        expect(run.stdout.split('\n')).toContain(`  note: ${warning}`);
        expect((await stat(target)).mode & 0o777).toBe(0o600);
        const merged = parseYaml(await readFile(target, 'utf8')) as { clusters: Array<{ name: string }> };
        expect(merged.clusters.map((cluster) => cluster.name)).toEqual(['work', `rootlet-${name}`]);
        // A second write finds it 0600: no warning.
        const again = await rootlet(up(name), { KUBECONFIG: target });
        expect(again.stdout).not.toContain('had mode');
        // kubeconfig --merge says so on stderr.
        await chmod(target, 0o640);
        const merge = await rootlet(['kubeconfig', '--name', name, '--merge'], { KUBECONFIG: target });
        expect(merge.exitCode, merge.stderr).toBe(0);
        expect(merge.stderr.split('\n')).toContain(`warning: ${warning.replace('0644', '0640')}`);
        expect((await stat(target)).mode & 0o777).toBe(0o600);
        expect((await rootlet(['down', '--name', name], { KUBECONFIG: target })).exitCode).toBe(0);
        expect(await nodesOf(name)).toEqual([]);
      });
    });
  });
}
