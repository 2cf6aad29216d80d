import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clusterLockPath, withClusterLock } from '../../src/cluster/cluster-lock.js';
import { RootletError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local-host.js';

let state: string;
let env: Record<string, string>;
const host = new LocalHost();
const children: ResultPromise[] = [];

beforeEach(async () => {
  state = await mkdtemp(path.join(tmpdir(), 'rootlet-cluster-lock-'));
  env = { XDG_STATE_HOME: state };
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(state, { recursive: true, force: true });
});

/** A live process whose argv looks like `rootlet <verb>`, holding the cluster's lock as rootlet writes it. */
async function holdLock(cluster: string, verb = 'up'): Promise<{ pid: number; file: string }> {
  const child = execa('node', ['-e', 'setTimeout(() => {}, 600000)', '/opt/rootlet/dist/rootlet.js', verb, '--name', cluster], { reject: false });
  children.push(child);
  const file = await clusterLockPath(host, env, cluster);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${child.pid} ${hostname()}\n`);
  return { pid: child.pid!, file };
}

describe('withClusterLock', () => {
  it('holds <state>/rootlet/<cluster>/lock while the body runs, and removes it after', async () => {
    const file = await clusterLockPath(host, env, 'dev');
    expect(file).toBe(path.join(state, 'rootlet', 'dev', 'lock'));
    const seen = await withClusterLock(host, env, 'dev', async () => readdir(path.dirname(file)), { command: 'up', timeoutMs: 1000 });
    expect(seen).toEqual(['lock']);
    expect(await readdir(path.dirname(file))).toEqual([]);
  });

  it('refuses at once with timeout 0, naming the holder and the lock file', async () => {
    const { pid, file } = await holdLock('dev');
    const waits: string[] = [];
    let ran = false;
    const error = await withClusterLock(host, env, 'dev', async () => (ran = true), { command: 'up', timeoutMs: 0, onWait: (line) => waits.push(line) }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(ran).toBe(false);
    expect(waits).toEqual([]);
    expect(error).toBeInstanceOf(RootletError);
    expect(error).toMatchObject({ code: 'cluster-busy', exitCode: 1, message: `cluster dev is busy: rootlet up (pid ${pid}) is working on it` });
    expect((error as RootletError).hint).toBe(`let it finish, then run \`rootlet up --name dev\` again; if no rootlet is running, remove ${file}`);
  });

  it('says once what it waits for, and runs the body when the holder lets go', async () => {
    const { pid, file } = await holdLock('dev', 'down');
    const waits: string[] = [];
    setTimeout(() => void rm(file), 300);
    const started = Date.now();
    const result = await withClusterLock(host, env, 'dev', async () => 'mine', { command: 'up', timeoutMs: 10_000, onWait: (line) => waits.push(line) });
    expect(result).toBe('mine');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(waits).toEqual([`waiting for rootlet down (pid ${pid}) to finish with cluster dev (up to 10s; it holds ${file})`]);
  });

  it('gives up after the timeout with what it waited for', async () => {
    await holdLock('dev');
    const started = Date.now();
    await expect(withClusterLock(host, env, 'dev', async () => 'never', { command: 'down', timeoutMs: 1000, onWait: () => undefined })).rejects.toMatchObject({
      code: 'cluster-busy',
      message: expect.stringMatching(/^cluster dev is still busy after 1s: rootlet up \(pid \d+\) is working on it$/) as unknown,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('names a holder that is gone, whose lock is taken over only once it is old', async () => {
    const gone = await execa('node', ['-e', 'process.stdout.write(String(process.pid))']);
    const file = await clusterLockPath(host, env, 'dev');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${gone.stdout} ${hostname()}\n`);
    await expect(withClusterLock(host, env, 'dev', async () => 'never', { command: 'up', timeoutMs: 0 })).rejects.toMatchObject({
      message: `cluster dev is busy: a rootlet that is gone (pid ${gone.stdout}; its lock is taken over once it is a minute old) is working on it`,
    });
  });

  it('lets an interrupt end the wait (exit 130), and does not run the body', async () => {
    await holdLock('dev');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    let ran = false;
    await expect(
      withClusterLock(host, env, 'dev', async () => (ran = true), { command: 'up', timeoutMs: 10_000, signal: controller.signal, onWait: () => undefined }),
    ).rejects.toMatchObject({ code: 'interrupted', exitCode: 130 });
    expect(ran).toBe(false);
  });

  it("passes the body's own lock timeout through untouched (a kubeconfig locked by kubectl)", async () => {
    const inner = new RootletError('file-locked', '/home/a/.kube/config.lock: still locked after 10s');
    await expect(withClusterLock(host, env, 'dev', () => Promise.reject(inner), { command: 'up', timeoutMs: 0 })).rejects.toBe(inner);
    expect(await readdir(path.join(state, 'rootlet', 'dev'))).toEqual([]);
  });

  it('keeps clusters apart: another cluster is not waited for', async () => {
    await holdLock('dev');
    expect(await withClusterLock(host, env, 'prod', async () => 'ran', { command: 'up', timeoutMs: 0 })).toBe('ran');
  });
});
