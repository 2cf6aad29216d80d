import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, open, readFile, readdir, rename, rm, stat, unlink, type FileHandle, realpath } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { RootletError } from '../errors.js';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  HostFileError,
  STALE_LOCK_MS,
  type Command,
  type FileInfo,
  type FileProblem,
  type FileType,
  type Host,
  type LockOptions,
  type RunOptions,
  type RunResult,
  type WriteFileOptions,
} from './host.js';

export interface LocalHostOptions {
  /** Read every file under this directory instead of / (doctor --sysroot). Commands still run on this machine. */
  root?: string;
}

/** This machine: commands through execa (argv only, never a shell), files through node:fs. */
export class LocalHost implements Host {
  readonly id = 'local';
  readonly live: boolean;
  readonly #root: string;

  constructor(options: LocalHostOptions = {}) {
    this.#root = path.resolve(options.root ?? '/');
    this.live = this.#root === '/';
  }

  async user(): Promise<string> {
    return userInfo().username;
  }

  async run(command: Command, options: RunOptions = {}): Promise<RunResult> {
    const [file, ...args] = command;
    const result = await execa(file, args, {
      reject: false,
      stripFinalNewline: false,
      ...(options.stdin === undefined ? { stdin: 'ignore' as const } : { input: options.stdin }),
      ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
      forceKillAfterDelay: 5000,
    });
    if (result.isCanceled) throw options.signal?.reason ?? new Error(`${file} was cancelled`);
    const notFound = result.exitCode === undefined && (result as { code?: string }).code === 'ENOENT';
    return {
      exitCode: notFound ? 127 : (result.exitCode ?? 1),
      stdout: String(result.stdout ?? ''),
      stderr: notFound ? `${file}: command not found` : String(result.stderr ?? ''),
    };
  }

  async readText(file: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(file));
  }

  async readBytes(file: string): Promise<Uint8Array> {
    const real = this.commandPath(file);
    return guard(file, async () => {
      // Only regular files: a FIFO or device in a sysroot would block the read forever.
      if (!(await stat(real)).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
      return readFile(real);
    });
  }

  /** A regular file as a stream (an image archive too large to hold in memory); throws HostFileError. */
  async openRead(file: string): Promise<NodeJS.ReadableStream> {
    const real = this.commandPath(file);
    return guard(file, async () => {
      const handle = await open(real, 'r');
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
      }
      return handle.createReadStream();
    });
  }

  async listDir(dir: string): Promise<string[]> {
    const real = this.commandPath(dir);
    return guard(dir, () => readdir(real));
  }

  async stat(file: string): Promise<FileInfo | undefined> {
    try {
      const info = await stat(this.commandPath(file));
      return { type: typeOf(info), mode: info.mode & 0o7777, uid: info.uid, gid: info.gid, size: info.size };
    } catch (error) {
      if (problemOf(error) === 'missing' || problemOf(error) === 'not-a-directory') return undefined;
      throw new HostFileError(file, problemOf(error), messageOf(error));
    }
  }

  async writeFile(file: string, content: string | Uint8Array, { mode, followSymlink = false }: WriteFileOptions): Promise<void> {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`file mode out of range: ${mode}`);
    const given = this.commandPath(file);
    // realpath fails for a missing file (or a dangling link): then the path itself is written.
    const real = followSymlink ? await realpath(given).catch(() => given) : given;
    const dir = path.dirname(real);
    await guard(file, () => makeParents(dir));
    // Same directory, so the rename stays on one filesystem and is atomic; 'wx' (O_EXCL) never opens an existing path.
    const temp = path.join(dir, `.${path.basename(real)}.${randomBytes(6).toString('hex')}.tmp`);
    await guard(file, async () => {
      let handle: FileHandle | undefined;
      try {
        // Created with no more than `mode` allows (the umask can only narrow it), then set exactly.
        handle = await open(temp, 'wx', mode & 0o777);
        await handle.chmod(mode);
        await handle.writeFile(content);
        await handle.sync();
        await handle.close();
        handle = undefined;
        // rename(2) replaces a symlink at `real` itself instead of writing through it.
        await rename(temp, real);
      } catch (error) {
        await handle?.close().catch(() => undefined);
        await rm(temp, { force: true }).catch(() => undefined);
        throw error;
      }
    });
    await syncDirectory(dir);
  }

  async removeFile(file: string): Promise<void> {
    const real = this.commandPath(file);
    try {
      await unlink(real);
    } catch (error) {
      const problem = problemOf(error);
      if (problem === 'missing' || problem === 'not-a-directory') return;
      throw new HostFileError(file, problem, messageOf(error));
    }
  }

  async homeDir(): Promise<string> {
    return homedir();
  }

  async withLock<T>(file: string, body: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const release = await acquireLock(file, this.commandPath(file), options);
    let result: T;
    try {
      result = await body();
    } catch (error) {
      // The body's error is the one to report; a lock that cannot be removed is secondary then.
      await release().catch(() => undefined);
      throw error;
    }
    await release();
    return result;
  }

  async reachSocket(file: string): Promise<string> {
    return this.commandPath(file);
  }

  commandPath(file: string): string {
    if (!path.posix.isAbsolute(file)) throw new Error(`host paths are absolute: ${file}`);
    return path.join(this.#root, file);
  }
}

/** Creates missing directories up to `dir`, each 0700 exactly (the umask could have narrowed it further). */
async function makeParents(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    // mkdir -p meets a file where a directory should be.
    throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }) : error;
  });
  if (first === undefined) return;
  for (let created = dir; ; created = path.dirname(created)) {
    await chmod(created, 0o700);
    if (created === first || created === path.dirname(created)) return;
  }
}

/** Makes the rename durable: without it a crash can leave the directory pointing at neither file. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename has happened either way.
  }
}

interface LockHolder {
  pid: number | undefined;
  host: string | undefined;
  ageMs: number;
  ino: number;
  dev: number;
}

async function acquireLock(file: string, real: string, { timeoutMs = DEFAULT_LOCK_TIMEOUT_MS, signal }: LockOptions): Promise<() => Promise<void>> {
  await guard(file, () => makeParents(path.dirname(real)));
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    const mine = await tryCreateLock(file, real);
    if (mine) {
      return async () => {
        // Only our own lock: never one that replaced it.
        const now = await lstat(real).catch(() => undefined);
        if (now?.ino === mine.ino && now.dev === mine.dev) await guard(file, () => unlink(real));
      };
    }
    const holder = await readLockHolder(file, real);
    if (holder && isStale(holder)) {
      await takeOverStaleLock(file, real, holder);
      continue;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw lockTimeout(file, timeoutMs, holder);
    if (holder === undefined) continue; // released between our attempt and the look at it
    // Short, growing, jittered sleeps: a kubeconfig write takes milliseconds.
    const pause = Math.min(remaining, 10 * Math.min(attempt + 1, 10) + Math.random() * 10);
    await sleep(pause, undefined, signal ? { signal } : undefined).catch((error: unknown) => {
      signal?.throwIfAborted();
      throw error;
    });
  }
}

/** The new lock's identity, or undefined when someone else holds it. */
async function tryCreateLock(file: string, real: string): Promise<{ ino: number; dev: number } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(real, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw new HostFileError(file, problemOf(error), messageOf(error));
  }
  try {
    await handle.writeFile(`${process.pid} ${hostname()}\n`);
    const { ino, dev } = await handle.stat();
    await handle.close();
    return { ino, dev };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(real).catch(() => undefined);
    throw new HostFileError(file, problemOf(error), messageOf(error));
  }
}

async function readLockHolder(file: string, real: string): Promise<LockHolder | undefined> {
  try {
    const info = await lstat(real);
    // kubectl's lock is empty; rootlet's says `<pid> <hostname>`.
    const [pidText, host] = (await readFile(real, 'utf8')).trim().split(/\s+/);
    const pid = /^\d+$/.test(pidText ?? '') ? Number(pidText) : undefined;
    return { pid: pid !== undefined && pid > 0 ? pid : undefined, host, ageMs: Date.now() - info.mtimeMs, ino: info.ino, dev: info.dev };
  } catch (error) {
    if (problemOf(error) === 'missing') return undefined;
    throw new HostFileError(file, problemOf(error), messageOf(error));
  }
}

/**
 * Old, and its holder is gone: a pid that is not alive on this machine, or no pid at all (kubectl writes none and
 * holds its lock for milliseconds). A pid of another machine (a shared home directory) cannot be checked: not stale.
 */
function isStale(holder: LockHolder): boolean {
  if (holder.ageMs < STALE_LOCK_MS) return false;
  if (holder.pid === undefined) return true;
  if (holder.host !== undefined && holder.host !== hostname()) return false;
  return !isAlive(holder.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Moves the stale lock aside under a unique name first, so that of several waiters that judged it stale only one
 * removes it; if what was moved is not the file judged stale (a new holder's lock), it is put back.
 */
async function takeOverStaleLock(file: string, real: string, stale: LockHolder): Promise<void> {
  const aside = `${real}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(real, aside);
  } catch (error) {
    if (problemOf(error) === 'missing') return;
    throw new HostFileError(file, problemOf(error), messageOf(error));
  }
  const moved = await guard(file, () => lstat(aside));
  if (moved.ino !== stale.ino || moved.dev !== stale.dev) {
    // link(2) fails if yet another lock appeared meanwhile; that one is then the lock, and ours is dropped.
    await guard(file, async () => {
      try {
        await link(aside, real);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    });
  }
  await unlink(aside).catch(() => undefined);
}

function lockTimeout(file: string, timeoutMs: number, holder: LockHolder | undefined): RootletError {
  const by = holder?.pid === undefined ? '' : ` by pid ${holder.pid}${holder.host === undefined || holder.host === hostname() ? '' : ` on ${holder.host}`}`;
  return new RootletError('file-locked', `${file}: still locked${by} after ${Math.round(timeoutMs / 100) / 10}s`, {
    hint: `wait for the other rootlet or kubectl to finish; if none is running, remove ${file}`,
  });
}

async function guard<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new HostFileError(file, problemOf(error), messageOf(error));
  }
}

function problemOf(error: unknown): FileProblem {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'missing';
    case 'EACCES':
    case 'EPERM':
      return 'denied';
    case 'ENOTDIR':
      return 'not-a-directory';
    default:
      return 'other';
  }
}

function messageOf(error: unknown): string {
  const { code } = error as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'not a directory',
    EISDIR: 'is a directory',
    ENOTREG: 'not a regular file',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EROFS: 'read-only file system',
  };
  return (code && words[code]) ?? (error instanceof Error ? error.message : String(error));
}

function typeOf(info: import('node:fs').Stats): FileType {
  if (info.isFile()) return 'file';
  if (info.isDirectory()) return 'directory';
  if (info.isCharacterDevice()) return 'char-device';
  if (info.isBlockDevice()) return 'block-device';
  if (info.isSocket()) return 'socket';
  if (info.isFIFO()) return 'fifo';
  return 'symlink';
}
