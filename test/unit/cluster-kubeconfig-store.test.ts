import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  exposedKubeconfigWarning,
  kubeconfigLockPath,
  kubeconfigNotWritten,
  kubeconfigTarget,
  mergeIntoKubeconfig,
  removeFromKubeconfigFile,
  writeStandaloneKubeconfig,
} from '../../src/cluster/kubeconfig-store.js';
import { RootletError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local-host.js';
import { clusterKubeconfig, parseKubeconfig, type Kubeconfig } from '../../src/kube/kubeconfig.js';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIC+jCCAeKgAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMw==\n').toString('base64');
const KEY = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256)).toString('base64');

const ADMIN_CONF = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${CA}
    server: https://x-control-plane:6443
  name: x
contexts:
- context: {cluster: x, user: kubernetes-admin}
  name: kubernetes-admin@x
current-context: kubernetes-admin@x
kind: Config
users:
- name: kubernetes-admin
  user: {client-certificate-data: ${CA}, client-key-data: ${KEY}}
`;

const entry = (clusterName: string, port = 6443): Kubeconfig =>
  clusterKubeconfig(parseKubeconfig(ADMIN_CONF, 'admin.conf'), { clusterName, server: `https://127.0.0.1:${port}` });

const OTHER = `apiVersion: v1
kind: Config
clusters:
- name: work
  cluster: {server: 'https://k8s.example.com', x-custom: kept}
users:
- name: work
  user: {token: abc.def}
contexts:
- name: work
  context: {cluster: work, user: work}
current-context: work
`;

let dir: string;
let host: LocalHost;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rootlet-kubeconfig-'));
  host = new LocalHost();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (file: string) => (await stat(file)).mode & 0o7777;
const read = async (file: string) => parseKubeconfig(await readFile(file, 'utf8'), file);
const names = (config: Kubeconfig) => config.clusters.map((item) => item.name);

describe('kubeconfigTarget', () => {
  it('is ~/.kube/config without KUBECONFIG', async () => {
    vi.stubEnv('HOME', '/home/alice');
    expect(await kubeconfigTarget(host, {})).toBe('/home/alice/.kube/config');
    expect(await kubeconfigTarget(host, { KUBECONFIG: '' })).toBe('/home/alice/.kube/config');
    expect(await kubeconfigTarget(host, { KUBECONFIG: '::' })).toBe('/home/alice/.kube/config');
  });

  it('is the only KUBECONFIG entry, existing or not', async () => {
    expect(await kubeconfigTarget(host, { KUBECONFIG: `${dir}/new/config` })).toBe(`${dir}/new/config`);
    expect(await kubeconfigTarget(host, { KUBECONFIG: `:${dir}/a::` })).toBe(`${dir}/a`);
  });

  it("with several entries, is kubectl's and kind's choice: the first that exists, else the last", async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((name) => path.join(dir, name)) as [string, string, string];
    const list = `${a}::${b}:${c}:${a}`;
    expect(await kubeconfigTarget(host, { KUBECONFIG: list })).toBe(c);
    await writeFile(b, '');
    expect(await kubeconfigTarget(host, { KUBECONFIG: list })).toBe(b);
    await writeFile(a, '');
    expect(await kubeconfigTarget(host, { KUBECONFIG: list })).toBe(a);
  });

  it('does not take a directory for the file', async () => {
    await mkdir(path.join(dir, 'a'));
    expect(await kubeconfigTarget(host, { KUBECONFIG: `${dir}/a:${dir}/b` })).toBe(`${dir}/b`);
  });

  it('resolves relative entries against the current directory, and refuses them when it is unknown', async () => {
    expect(await kubeconfigTarget(host, { KUBECONFIG: 'kubeconfig', PWD: '/work/ci' })).toBe('/work/ci/kubeconfig');
    expect(await kubeconfigTarget(host, { KUBECONFIG: '../k' }, { cwd: '/work/ci' })).toBe('/work/k');
    await expect(kubeconfigTarget(host, { KUBECONFIG: 'kubeconfig' })).rejects.toMatchObject({ code: 'kubeconfig-path', exitCode: 2 });
  });
});

describe('mergeIntoKubeconfig', () => {
  it('creates ~/.kube 0700 and the file 0600, with the cluster as current context', async () => {
    vi.stubEnv('HOME', path.join(dir, 'home', 'alice'));
    const target = await kubeconfigTarget(host, {});
    const previous = process.umask(0);
    try {
      const result = await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: true });
      expect(result).toEqual({
        path: target,
        created: true,
        context: 'rootlet-dev',
        replaced: false,
        previousContext: undefined,
        currentContext: 'rootlet-dev',
      });
    } finally {
      process.umask(previous);
    }
    expect(await modeOf(path.join(dir, 'home', 'alice', '.kube'))).toBe(0o700);
    expect(await modeOf(target)).toBe(0o600);
    expect(await read(target)).toEqual(entry('dev'));
    expect(await readdir(path.join(dir, 'home', 'alice', '.kube'))).toEqual(['config']);
  });

  it('writes through a symlinked kubeconfig (a dotfiles repository), as kubectl does', async () => {
    const real = path.join(dir, 'dotfiles-kubeconfig');
    await writeFile(real, OTHER);
    const target = path.join(dir, 'config-link');
    await symlink(real, target);
    await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: false });
    expect((await lstat(target)).isSymbolicLink()).toBe(true);
    expect(await modeOf(real)).toBe(0o600);
    expect((await read(real)).clusters.map((cluster) => cluster.name)).toContain('rootlet-dev');
  });

  it("keeps an existing file's other clusters, and tightens its mode to 0600", async () => {
    const target = path.join(dir, 'config');
    await writeFile(target, OTHER);
    await chmod(target, 0o644);
    const result = await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: false });
    expect(result).toMatchObject({ created: false, replaced: false, previousContext: 'work', currentContext: 'work', exposedMode: 0o644 });
    const config = await read(target);
    expect(names(config)).toEqual(['work', 'rootlet-dev']);
    expect(config.clusters[0]).toEqual(parseKubeconfig(OTHER, 'other').clusters[0]);
    expect(config.users[0]!.user.token).toBe('abc.def');
    expect(config.users[1]!.user['client-key-data']).toBe(KEY);
    expect(config['current-context']).toBe('work');
    expect(await modeOf(target)).toBe(0o600);
  });

  it('warns, in one line, of a file group or others could read before; none for a 0600 one or a new one', async () => {
    const target = path.join(dir, 'config');
    await writeFile(target, OTHER);
    await chmod(target, 0o640);
    const exposed = await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: false });
    expect(exposedKubeconfigWarning(exposed)).toBe(
      `${target} had mode 0640: other users could read the credentials in it (rotate them if that matters); it is 0600 now`,
    );
    const again = await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: false });
    expect(again.exposedMode).toBeUndefined();
    expect(exposedKubeconfigWarning(again)).toBeUndefined();
    const fresh = await mergeIntoKubeconfig(host, path.join(dir, 'new'), entry('dev'), { switchContext: false });
    expect(exposedKubeconfigWarning(fresh)).toBeUndefined();
  });

  it('replaces the entries of a cluster merged again', async () => {
    const target = path.join(dir, 'config');
    await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: true });
    const again = await mergeIntoKubeconfig(host, target, entry('dev', 7443), { switchContext: true });
    expect(again).toMatchObject({ created: false, replaced: true, previousContext: 'rootlet-dev', currentContext: 'rootlet-dev' });
    const config = await read(target);
    expect(names(config)).toEqual(['rootlet-dev']);
    expect(config.clusters[0]!.cluster.server).toBe('https://127.0.0.1:7443');
  });

  it('lands every one of concurrent merges (Promise.all)', async () => {
    const target = path.join(dir, 'kube', 'config');
    await mkdir(path.dirname(target));
    await writeFile(target, OTHER);
    await Promise.all([
      mergeIntoKubeconfig(host, target, entry('one', 6443), { switchContext: false }),
      mergeIntoKubeconfig(host, target, entry('two', 6444), { switchContext: false }),
      mergeIntoKubeconfig(host, target, entry('three', 6445), { switchContext: false }),
    ]);
    expect(names(await read(target)).sort()).toEqual(['rootlet-one', 'rootlet-three', 'rootlet-two', 'work']);
    expect(await readdir(path.dirname(target))).toEqual(['config']);
  });

  it('waits for a lock kubectl holds', async () => {
    const target = path.join(dir, 'config');
    const lock = kubeconfigLockPath(target);
    expect(lock).toBe(`${target}.lock`);
    await writeFile(lock, '');
    setTimeout(() => void rm(lock), 150);
    await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: true });
    expect(names(await read(target))).toEqual(['rootlet-dev']);
  });

  it('reports a lock that is not let go, naming it', async () => {
    const target = path.join(dir, 'config');
    await writeFile(kubeconfigLockPath(target), `${process.pid} ${hostname()}\n`);
    await expect(mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: true, timeoutMs: 100 })).rejects.toMatchObject({
      code: 'file-locked',
      message: expect.stringContaining(`${target}.lock`) as unknown,
    });
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never overwrites a file that is not a kubeconfig', async () => {
    const target = path.join(dir, 'config');
    const garbage = 'clusters: [\n  this is: not yaml\n';
    await writeFile(target, garbage);
    const failure = await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RootletError);
    expect((failure as RootletError).message).toMatch(new RegExp(`^${target}: not a kubeconfig: \\d+:\\d+: `));
    expect((failure as RootletError).hint).toContain(`fix ${target} or move it aside`);
    expect(await readFile(target, 'utf8')).toBe(garbage);
    expect(await readdir(dir)).toEqual(['config']);
  });

  it('says what to do when the path is a directory or under a file', async () => {
    await mkdir(path.join(dir, 'config'));
    await expect(mergeIntoKubeconfig(host, path.join(dir, 'config'), entry('dev'), { switchContext: true })).rejects.toMatchObject({
      code: 'kubeconfig-file',
      hint: expect.stringContaining('must be a regular file') as unknown,
    });
    await writeFile(path.join(dir, 'file'), '');
    await expect(mergeIntoKubeconfig(host, path.join(dir, 'file', 'config'), entry('dev'), { switchContext: true })).rejects.toMatchObject({
      code: 'kubeconfig-file',
      hint: expect.stringContaining('is a file, not a directory') as unknown,
    });
  });
});

describe('kubeconfigNotWritten', () => {
  it('names the file, the cause and its fix, and prints the kubeconfig instead (exit 1)', async () => {
    const under = path.join(dir, 'a-file');
    await writeFile(under, '');
    const target = path.join(under, 'config');
    const cause = await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: true }).catch((error: unknown) => error);
    const error = kubeconfigNotWritten('dev', target, cause);
    expect(error).toMatchObject({ code: 'kubeconfig-not-written', exitCode: 1 });
    expect(error.message).toBe(`cluster dev is up, but its kubeconfig could not be written to ${target}: ${target}.lock: not a directory`);
    expect(error.details).toEqual([`fix: a parent of ${target} is a file, not a directory: move it, or set KUBECONFIG to a file you can write`]);
    expect(error.hint).toBe(
      'the cluster keeps running: `rootlet kubeconfig --name dev --print > FILE` writes its kubeconfig to FILE (then kubectl --kubeconfig FILE get nodes)',
    );
  });
});

describe('removeFromKubeconfigFile', () => {
  it('removes the cluster, keeps the rest, and is idempotent', async () => {
    const target = path.join(dir, 'config');
    await writeFile(target, OTHER);
    await mergeIntoKubeconfig(host, target, entry('dev'), { switchContext: true });
    await mergeIntoKubeconfig(host, target, entry('dev2', 7443), { switchContext: false });

    expect(await removeFromKubeconfigFile(host, target, 'dev')).toEqual({ path: target, clearedCurrentContext: true });
    const config = await read(target);
    expect(names(config)).toEqual(['work', 'rootlet-dev2']);
    expect(config['current-context']).toBe('');
    expect(await modeOf(target)).toBe(0o600);

    const written = await stat(target);
    expect(await removeFromKubeconfigFile(host, target, 'dev')).toBeUndefined();
    expect((await stat(target)).mtimeMs).toBe(written.mtimeMs);
    expect(await removeFromKubeconfigFile(host, target, 'dev2')).toEqual({ path: target, clearedCurrentContext: false });
    expect(names(await read(target))).toEqual(['work']);
    expect(await readdir(dir)).toEqual(['config']);
  });

  it('does nothing for a missing file, not even create its directory', async () => {
    const target = path.join(dir, 'home', '.kube', 'config');
    expect(await removeFromKubeconfigFile(host, target, 'dev')).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });

  it('never overwrites a file that is not a kubeconfig', async () => {
    const target = path.join(dir, 'config');
    await writeFile(target, '- not\n- a kubeconfig\n');
    await expect(removeFromKubeconfigFile(host, target, 'dev')).rejects.toMatchObject({ code: 'kubeconfig-invalid' });
    expect(await readFile(target, 'utf8')).toBe('- not\n- a kubeconfig\n');
  });
});

describe('writeStandaloneKubeconfig', () => {
  it('writes the entry alone, 0600, replacing what was there', async () => {
    const file = path.join(dir, 'out', 'dev.kubeconfig');
    await mkdir(path.dirname(file));
    await writeFile(file, OTHER, { mode: 0o644 });
    await writeStandaloneKubeconfig(host, file, entry('dev'));
    expect(await modeOf(file)).toBe(0o600);
    expect(await read(file)).toEqual(entry('dev'));
  });
});
