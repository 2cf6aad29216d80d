import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RootletError } from '../../src/errors.js';
import { HostFileError, STALE_LOCK_MS } from '../../src/host/host.js';
import { LocalHost } from '../../src/host/local-host.js';

/** Above any Linux pid_max (2^22): never a live process. */
const DEAD_PID = 4_194_305;

let dir: string;
let host: LocalHost;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rootlet-writes-'));
  host = new LocalHost();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withUmask<T>(mask: number, body: () => Promise<T>): Promise<T> {
  const previous = process.umask(mask);
  try {
    return await body();
  } finally {
    process.umask(previous);
  }
}

const modeOf = async (file: string) => (await stat(file)).mode & 0o7777;

describe('LocalHost.writeFile', () => {
  it('sets the mode exactly, whatever the umask', async () => {
    const file = path.join(dir, 'secret');
    await withUmask(0, () => host.writeFile(file, 'token\n', { mode: 0o600 }));
    expect(await modeOf(file)).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe('token\n');

    const shared = path.join(dir, 'shared');
    await withUmask(0o077, () => host.writeFile(shared, new Uint8Array([1, 2, 3]), { mode: 0o640 }));
    expect(await modeOf(shared)).toBe(0o640);
    expect([...(await readFile(shared))]).toEqual([1, 2, 3]);
  });

  it('replaces an existing file atomically with the new mode, leaving no temporary file', async () => {
    const file = path.join(dir, 'config');
    await writeFile(file, 'old', { mode: 0o644 });
    const before = await stat(file);
    await withUmask(0, () => host.writeFile(file, 'new', { mode: 0o600 }));
    const after = await stat(file);
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(after.mode & 0o7777).toBe(0o600);
    // A rename put a new inode in place: readers holding the old file never saw a half-written one.
    expect(after.ino).not.toBe(before.ino);
    expect(await readdir(dir)).toEqual(['config']);
  });

  it('creates missing parent directories 0700', async () => {
    const file = path.join(dir, 'home', '.kube', 'config');
    await chmod(dir, 0o751);
    await withUmask(0, () => host.writeFile(file, 'x', { mode: 0o600 }));
    expect(await modeOf(path.join(dir, 'home'))).toBe(0o700);
    expect(await modeOf(path.join(dir, 'home', '.kube'))).toBe(0o700);
    expect(await modeOf(dir)).toBe(0o751); // an existing directory is left as it was
  });

  it('replaces a symlink at the path instead of writing through it', async () => {
    const elsewhere = path.join(dir, 'elsewhere');
    await writeFile(elsewhere, 'untouched', { mode: 0o644 });
    const link = path.join(dir, 'config');
    await symlink(elsewhere, link);
    await host.writeFile(link, 'written', { mode: 0o600 });
    expect((await lstat(link)).isFile()).toBe(true);
    expect(await readFile(link, 'utf8')).toBe('written');
    expect(await readFile(elsewhere, 'utf8')).toBe('untouched');
    expect(await modeOf(elsewhere)).toBe(0o644);
  });

  it('with followSymlink, replaces the file the link points to and keeps the link', async () => {
    const elsewhere = path.join(dir, 'elsewhere');
    await writeFile(elsewhere, 'old', { mode: 0o644 });
    const link = path.join(dir, 'config');
    await symlink(elsewhere, link);
    await host.writeFile(link, 'written', { mode: 0o600, followSymlink: true });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(elsewhere, 'utf8')).toBe('written');
    expect(await modeOf(elsewhere)).toBe(0o600);
    // A path that does not exist yet is simply written.
    await host.writeFile(path.join(dir, 'fresh'), 'x', { mode: 0o600, followSymlink: true });
    expect(await readFile(path.join(dir, 'fresh'), 'utf8')).toBe('x');
  });

  it('writes under the sysroot, and names the host path when it fails', async () => {
    const rooted = new LocalHost({ root: dir });
    await rooted.writeFile('/etc/thing', 'x', { mode: 0o600 });
    expect(await readFile(path.join(dir, 'etc', 'thing'), 'utf8')).toBe('x');

    await mkdir(path.join(dir, 'etc', 'dir'));
    const failure = await rooted.writeFile('/etc/dir', 'x', { mode: 0o600 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HostFileError);
    expect((failure as HostFileError).message).toBe('/etc/dir: is a directory');
    expect((await readdir(path.join(dir, 'etc'))).sort()).toEqual(['dir', 'thing']);

    await expect(rooted.writeFile('/etc/thing/below', 'x', { mode: 0o600 })).rejects.toMatchObject({ problem: 'not-a-directory', path: '/etc/thing/below' });
  });
});

describe('LocalHost.removeFile and homeDir', () => {
  it('removes a file, and a missing one is fine', async () => {
    const file = path.join(dir, 'gone');
    await writeFile(file, 'x');
    await host.removeFile(file);
    await host.removeFile(file);
    await host.removeFile(path.join(dir, 'no', 'such', 'dir'));
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes a symlink, not what it points at', async () => {
    const target = path.join(dir, 'target');
    await writeFile(target, 'x');
    await symlink(target, path.join(dir, 'link'));
    await host.removeFile(path.join(dir, 'link'));
    expect(await readdir(dir)).toEqual(['target']);
  });

  it('refuses to remove a directory', async () => {
    await mkdir(path.join(dir, 'sub'));
    await expect(host.removeFile(path.join(dir, 'sub'))).rejects.toBeInstanceOf(HostFileError);
  });

  it('homeDir is the account home ($HOME)', async () => {
    expect(await host.homeDir()).toBe(process.env.HOME);
  });
});

describe('LocalHost.withLock', () => {
  it('runs the body holding a lock file with its pid, then removes it', async () => {
    const lock = path.join(dir, 'sub', 'config.lock');
    const seen = await host.withLock(lock, async () => readFile(lock, 'utf8'));
    expect(seen).toBe(`${process.pid} ${hostname()}\n`);
    expect(await readdir(path.join(dir, 'sub'))).toEqual([]);
    expect(await modeOf(path.join(dir, 'sub'))).toBe(0o700);
  });

  it('removes its lock when the body throws, and the body error is what is thrown', async () => {
    const lock = path.join(dir, 'config.lock');
    await expect(host.withLock(lock, () => Promise.reject(new Error('body failed')))).rejects.toThrow('body failed');
    expect(await readdir(dir)).toEqual([]);
  });

  it('never lets two bodies overlap', async () => {
    const lock = path.join(dir, 'config.lock');
    const events: string[] = [];
    let inside = 0;
    let most = 0;
    const holder = (id: number) =>
      host.withLock(lock, async () => {
        inside++;
        most = Math.max(most, inside);
        events.push(`in ${id}`);
        await sleep(15);
        events.push(`out ${id}`);
        inside--;
        return id;
      });
    expect(await Promise.all([1, 2, 3, 4, 5].map(holder))).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(1);
    for (let index = 0; index < events.length; index += 2) expect(events[index + 1]).toBe(events[index]!.replace('in', 'out'));
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over an old lock whose holder is gone', async () => {
    const lock = path.join(dir, 'config.lock');
    await writeFile(lock, `${DEAD_PID} ${hostname()}\n`);
    const old = new Date(Date.now() - STALE_LOCK_MS - 5_000);
    await utimes(lock, old, old);
    expect(await host.withLock(lock, async () => readFile(lock, 'utf8'), { timeoutMs: 2_000 })).toBe(`${process.pid} ${hostname()}\n`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over an old empty lock (kubectl writes no pid)', async () => {
    const lock = path.join(dir, 'config.lock');
    await writeFile(lock, '');
    const old = new Date(Date.now() - STALE_LOCK_MS - 5_000);
    await utimes(lock, old, old);
    expect(await host.withLock(lock, async () => 'ran', { timeoutMs: 2_000 })).toBe('ran');
  });

  it('waits for a fresh lock, even one with a dead pid, and times out naming it', async () => {
    const lock = path.join(dir, 'config.lock');
    await writeFile(lock, `${DEAD_PID} ${hostname()}\n`);
    let ran = false;
    const started = Date.now();
    const failure = await host
      .withLock(lock, async () => (ran = true), { timeoutMs: 300 })
      .then(() => undefined)
      .catch((error: unknown) => error);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(ran).toBe(false);
    expect(failure).toBeInstanceOf(RootletError);
    expect((failure as RootletError).message).toBe(`${lock}: still locked by pid ${DEAD_PID} after 0.3s`);
    expect((failure as RootletError).hint).toContain(`remove ${lock}`);
    expect(await readFile(lock, 'utf8')).toBe(`${DEAD_PID} ${hostname()}\n`);
  });

  it('does not take over an old lock whose holder is alive', async () => {
    const lock = path.join(dir, 'config.lock');
    await writeFile(lock, `${process.pid} ${hostname()}\n`);
    const old = new Date(Date.now() - STALE_LOCK_MS - 5_000);
    await utimes(lock, old, old);
    await expect(host.withLock(lock, async () => 'ran', { timeoutMs: 200 })).rejects.toMatchObject({ code: 'file-locked' });
  });

  it('gets the lock as soon as the holder lets go', async () => {
    const lock = path.join(dir, 'config.lock');
    await writeFile(lock, `${process.pid} ${hostname()}\n`);
    setTimeout(() => void rm(lock), 100);
    expect(await host.withLock(lock, async () => 'ran', { timeoutMs: 5_000 })).toBe('ran');
  });

  it('stops waiting when the signal aborts', async () => {
    const lock = path.join(dir, 'config.lock');
    await writeFile(lock, `${process.pid} ${hostname()}\n`);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted')), 50);
    await expect(host.withLock(lock, async () => 'ran', { timeoutMs: 5_000, signal: controller.signal })).rejects.toThrow('interrupted');
  });
});
