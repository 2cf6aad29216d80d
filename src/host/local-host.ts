import { readFile, readdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { HostFileError, type Command, type FileInfo, type FileProblem, type FileType, type Host, type RunOptions, type RunResult } from './host.js';

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

  async listDir(dir: string): Promise<string[]> {
    const real = this.commandPath(dir);
    return guard(dir, () => readdir(real));
  }

  async stat(file: string): Promise<FileInfo | undefined> {
    try {
      const info = await stat(this.commandPath(file));
      return { type: typeOf(info), mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
    } catch (error) {
      if (problemOf(error) === 'missing' || problemOf(error) === 'not-a-directory') return undefined;
      throw new HostFileError(file, problemOf(error), messageOf(error));
    }
  }

  commandPath(file: string): string {
    if (!path.posix.isAbsolute(file)) throw new Error(`host paths are absolute: ${file}`);
    return path.join(this.#root, file);
  }
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
