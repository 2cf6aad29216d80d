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
  /** Bytes, of a regular file: a reader can refuse one too large before reading it. */
  size: number;
}

export interface WriteFileOptions {
  /** Permission bits of the new file, set exactly: the umask does not narrow them. */
  mode: number;
  /**
   * When the path is a symlink, replace the file it points to (as kubectl and ssh write their own files through a
   * link into a dotfiles repository). Default: the link itself is replaced.
   */
  followSymlink?: boolean;
}

export interface LockOptions {
  /** How long to wait for another holder; default DEFAULT_LOCK_TIMEOUT_MS. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Long enough for kubectl or another rootlet to finish a read-merge-write; short enough that a stuck one is reported. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** A lock file this old whose holder is gone is taken over (kubectl holds its lock for milliseconds). */
export const STALE_LOCK_MS = 60_000;

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
  /**
   * Replaces the file atomically: a temporary file in the same directory, created with `mode`, synced, then renamed over
   * the path, so a reader sees the old content or the new, never a part. Missing parent directories are created 0700. A
   * symlink at the path is replaced by the file, never followed to write elsewhere. Throws HostFileError.
   */
  writeFile(path: string, content: string | Uint8Array, options: WriteFileOptions): Promise<void>;
  /** Removes a file (a symlink itself, not its target); nothing at the path is fine. Throws HostFileError. */
  removeFile(path: string): Promise<void>;
  /** The account's home directory, as a path of this host's file view. */
  homeDir(): Promise<string>;
  /**
   * Runs `body` while holding the lock file `path`, created exclusively with the holder's pid in it, and removes it
   * afterwards, whatever `body` does. Waits for another holder up to `timeoutMs`, then throws RootletError; a lock older
   * than STALE_LOCK_MS whose holder is no longer alive is taken over. The same file kubectl locks (`<file>.lock`) keeps
   * rootlet and kubectl from writing a kubeconfig at once.
   */
  withLock<T>(path: string, body: () => Promise<T>, options?: LockOptions): Promise<T>;
  /** The path a command on this host sees for a path of this host's file view (differs under a sysroot). */
  commandPath(path: string): string;
  /**
   * A unix socket on this machine that reaches the unix socket `path` of this host: the path itself for this machine,
   * a forward through the SSH connection for a remote host (an engine is never opened on TCP).
   */
  reachSocket(path: string): Promise<string>;
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
