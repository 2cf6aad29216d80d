/** A command as data: never a shell string. Tests assert on these; dry-runs print them. */
export type Command = readonly [cli: string, ...args: string[]];

export interface RunOptions {
  /** Sent on the command's stdin; the only way secrets reach a command. */
  stdin?: string | Uint8Array;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface RunResult {
  /** 127 when the command does not exist on the host. */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type FileType = 'file' | 'directory' | 'char-device' | 'block-device' | 'symlink' | 'socket' | 'fifo';

export interface FileInfo {
  type: FileType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Where commands run and files are read: this machine (LocalHost) or another over SSH.
 * Doctor, engine access and node setup see only this interface.
 */
export interface Host {
  /** Short id used in labels and output: "local", or user@address for remote hosts. */
  readonly id: string;
  /** The account commands run as. */
  user(): Promise<string>;
  run(command: Command, options?: RunOptions): Promise<RunResult>;
  /** Reads a whole file; throws HostFileError. */
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  /** Entry names of a directory; throws HostFileError. */
  listDir(path: string): Promise<string[]>;
  /** undefined when nothing is at the path (symlinks are followed). */
  stat(path: string): Promise<FileInfo | undefined>;
  /** The path a command on this host sees for a path of this host's file view (differs under a sysroot). */
  commandPath(path: string): string;
  /** False when files are read from a sysroot: commands then describe another system than the files. */
  readonly live: boolean;
}

export type FileProblem = 'missing' | 'denied' | 'not-a-directory' | 'other';

export class HostFileError extends Error {
  constructor(
    readonly path: string,
    readonly problem: FileProblem,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'HostFileError';
  }
}

/** The file's text, or undefined when it does not exist; other problems still throw. */
export async function readTextIfExists(host: Host, path: string): Promise<string | undefined> {
  try {
    return await host.readText(path);
  } catch (error) {
    if (error instanceof HostFileError && error.problem === 'missing') return undefined;
    throw error;
  }
}
