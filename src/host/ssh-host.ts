import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { constants, hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeSSH, type Config } from 'node-ssh';
import type { AnyAuthMethod, ClientChannel, ServerHostKeyAlgorithm } from 'ssh2';
import { ExitCode, RootletError } from '../errors.js';
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
import {
  checkHostKey,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  readKnownHosts,
  recordHostKey,
  type HostKeyVerdict,
  type KnownHostsEntry,
} from './known-hosts.js';
import { LocalHost } from './local-host.js';
import { shellLine } from './shell-quote.js';
import { targetId, type SshTarget } from './ssh-target.js';

export interface SshConnectOptions {
  /** Private key files (--identity), tried first and in order. Without them: ssh-agent, then ~/.ssh/id_{ed25519,ecdsa,rsa}. */
  identityFiles?: readonly string[];
  /**
   * known_hosts files to check the host key against; a newly accepted key is recorded in the first.
   * Default: ~/.ssh/known_hosts, then /etc/ssh/ssh_known_hosts.
   */
  knownHostsFiles?: readonly string[];
  /** Trust an unknown host key and record it (--accept-new-host-keys). A changed or revoked key is refused regardless. */
  acceptNewHostKeys?: boolean;
  /** For the connection: TCP, key exchange and authentication. Default DEFAULT_SSH_CONNECT_TIMEOUT_MS. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** This machine, where keys and known_hosts files are read and accepted host keys written. Default: a new LocalHost. */
  local?: Host;
  /** SSH_AUTH_SOCK comes from here; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A local unix socket whose connections reach a unix socket on the remote host through the SSH connection. */
export interface SocketForward {
  /** The local socket, in a private directory (0700). */
  path: string;
  close(): Promise<void>;
}

export const DEFAULT_SSH_CONNECT_TIMEOUT_MS = 20_000;
/**
 * Concurrent commands per connection. sshd's MaxSessions (default 10) caps the open sessions of one connection; more
 * are refused with "open failed". Doctor runs its checks concurrently, so commands queue here instead.
 */
const MAX_SESSIONS = 8;
/** Host key algorithms ssh2 offers by default, best first (ssh2 1.x on Node >= 12). */
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
/** Remote commands read the C locale, so their error messages can be matched. */
const C_LOCALE = ['env', 'LC_ALL=C'] as const;

/**
 * A host over SSH: one connection, reused for every command, file and forwarded socket. Commands are argv arrays
 * joined by shellLine for the remote login shell (a POSIX shell: sh, bash, dash, zsh, ksh); files are read and
 * written with GNU coreutils and findutils (cat, stat -c, find -print0, mv -T, timeout), so the remote needs nothing
 * but sshd. The scripts are one line each: a csh-family login shell ends a quoted word at a newline.
 */
export class SshHost implements Host {
  readonly id: string;
  readonly live = true;
  readonly #ssh: NodeSSH;
  readonly #user: string;
  readonly #sessions = new Slots(MAX_SESSIONS);
  readonly #forwards = new Set<SocketForward>();
  readonly #socketForwards = new Map<string, Promise<SocketForward>>();
  #lost: Error | undefined;
  /** The connection ended before node-ssh heard of it: an error event, or "Not connected" to a new channel. */
  #closed = false;
  #home: Promise<string> | undefined;

  private constructor(ssh: NodeSSH, target: SshTarget & { user: string }) {
    this.#ssh = ssh;
    this.#user = target.user;
    this.id = targetId(target);
    const connection = ssh.connection!;
    // Each command is a few small packets each way: with Nagle's algorithm every one waited ~40 ms for a delayed ACK.
    // (Also set while connecting, if node-ssh had made its client by then.)
    connection.setNoDelay(true);
    // node-ssh adds an 'error' listener per command; a doctor run has dozens at once.
    connection.setMaxListeners(0);
    // Without a listener an error after login (a reset, a keepalive timeout) would crash the process. Each ends the
    // connection, which node-ssh notices only at the close event a moment later: commands failing meanwhile are the loss.
    connection.on('error', (error: Error) => {
      this.#lost ??= error;
      this.#closed = true;
    });
  }

  /** Connects and authenticates, checking the host key against known_hosts first. Throws RootletError (exit 5). */
  static async connect(target: SshTarget, options: SshConnectOptions = {}): Promise<SshHost> {
    const { signal } = options;
    signal?.throwIfAborted();
    const local = options.local ?? new LocalHost();
    const home = await local.homeDir();
    const user = target.user ?? (await local.user());
    const resolved = { ...target, user };
    const id = targetId(resolved);
    const knownHostsFiles = options.knownHostsFiles ?? [path.join(home, '.ssh/known_hosts'), '/etc/ssh/ssh_known_hosts'];
    const entries = await readKnownHosts(local, knownHostsFiles).catch((error: unknown) => {
      throw new RootletError('ssh-known-hosts', `cannot read known_hosts: ${messageOf(error)}`, {
        exitCode: ExitCode.ssh,
        hint: 'fix the file permissions; rootlet checks every host key against known_hosts',
        cause: error,
      });
    });
    const auth = await authMethods(local, home, user, options);

    let verdict: HostKeyVerdict | undefined;
    let recordFailure: unknown;
    let accepted: Buffer | undefined;
    const recordTo = knownHostsFiles[0];
    const hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
      verdict = checkHostKey(entries, target.host, target.port, key);
      if (verdict.status === 'known') return verify(true);
      if (verdict.status !== 'unknown' || !options.acceptNewHostKeys || recordTo === undefined) return verify(false);
      // Recorded only once the server has proven it holds the key (the handshake's signature is checked after this).
      accepted = key;
      verify(true);
    };

    const ssh = new NodeSSH();
    const config: Config = {
      host: target.host,
      port: target.port,
      username: user,
      authHandler: auth.methods,
      hostVerifier,
      readyTimeout: options.timeoutMs ?? DEFAULT_SSH_CONNECT_TIMEOUT_MS,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      ...hostKeyPreference(entries, target),
    };
    // destroy, not end: a server that never answers would keep an ended socket open until the timeout.
    const onAbort = () => ssh.connection?.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const connecting = ssh.connect(config);
      // The key exchange and authentication too are small packets each way (see the constructor).
      ssh.connection?.setNoDelay(true);
      await connecting;
      if (accepted !== undefined && recordTo !== undefined) {
        await recordHostKey(local, recordTo, target.host, target.port, keyTypeOf(accepted), accepted.toString('base64')).catch((error: unknown) => {
          recordFailure = error;
          throw error;
        });
      }
    } catch (error) {
      ssh.dispose();
      signal?.throwIfAborted();
      if (recordFailure !== undefined) {
        throw new RootletError('ssh-known-hosts', `cannot record the host key of ${id} in ${recordTo}: ${messageOf(recordFailure)}`, {
          exitCode: ExitCode.ssh,
          hint: `fix ${recordTo} (or its directory) so it can be written, then re-run`,
          cause: recordFailure,
        });
      }
      if (verdict !== undefined && verdict.status !== 'known' && isHostDenied(error)) throw hostKeyError(verdict, target, knownHostsFiles);
      throw connectError(error, resolved, id, auth.tried);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const host = new SshHost(ssh, resolved);
    await host.#requirePosixShell().catch(async (error: unknown) => {
      await host.dispose();
      throw error;
    });
    return host;
  }

  /**
   * Every remote command line is quoted for a POSIX shell. fish reads `\'` inside single quotes as an escaped quote,
   * so a quoted argument could end early and the rest run as a command: a login shell that does not quote as POSIX
   * does is refused before any command with user data is sent.
   */
  async #requirePosixShell(): Promise<void> {
    const probe = "a\\'b $x";
    const answer = await this.#exec(['printf', '%s', probe], {});
    if (answer.code !== 0 || answer.stdout.toString('utf8') !== probe)
      throw new RootletError('ssh-shell', `ssh: the login shell of ${this.#user} on ${this.id} does not quote arguments as a POSIX shell does`, {
        exitCode: ExitCode.ssh,
        hint: `make that account's login shell sh, bash, dash, zsh or ksh (chsh -s /bin/bash ${this.#user})`,
      });
  }

  async user(): Promise<string> {
    return this.#user;
  }

  async run(command: Command, options: RunOptions = {}): Promise<RunResult> {
    const { code, stdout, stderr } = await this.#exec(command, options);
    return { exitCode: code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') };
  }

  async readText(file: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(file));
  }

  async readBytes(file: string): Promise<Uint8Array> {
    // Only regular files, as LocalHost: a FIFO or a device would block the read forever.
    const script = 'if [ -f "$1" ]; then exec cat -- "$1"; elif [ -e "$1" ]; then echo "$1: Not a regular file" >&2; exit 1; else exec cat -- "$1"; fi';
    const result = await this.#exec([...C_LOCALE, 'sh', '-c', script, 'sh', this.commandPath(file)]);
    if (result.code !== 0) throw fileError(file, result.stderr);
    return new Uint8Array(result.stdout.buffer, result.stdout.byteOffset, result.stdout.byteLength);
  }

  async listDir(dir: string): Promise<string[]> {
    // NUL-separated: a name may hold a newline. The trailing slash follows a symlink to a directory, as readdir does.
    const script =
      'if [ -d "$1" ]; then exec find "$1/" -mindepth 1 -maxdepth 1 -print0; elif [ -e "$1" ]; then echo "$1: Not a directory" >&2; exit 1; else exec cat -- "$1"; fi';
    const result = await this.#exec([...C_LOCALE, 'sh', '-c', script, 'sh', this.commandPath(dir)]);
    if (result.code !== 0) throw fileError(dir, result.stderr);
    return result.stdout
      .toString('utf8')
      .split('\0')
      .filter((entry) => entry !== '')
      .map((entry) => entry.slice(entry.lastIndexOf('/') + 1));
  }

  async stat(file: string): Promise<FileInfo | undefined> {
    const result = await this.#exec([...C_LOCALE, 'stat', '-L', '-c', '%f %u %g %s', '--', this.commandPath(file)]);
    if (result.code !== 0) {
      const error = fileError(file, result.stderr);
      if (error.problem === 'missing' || error.problem === 'not-a-directory') return undefined;
      throw error;
    }
    const [rawMode = '', uid = '', gid = '', size = ''] = result.stdout.toString('utf8').trim().split(' ');
    const mode = Number.parseInt(rawMode, 16);
    if (!/^[0-9a-f]+$/.test(rawMode) || ![uid, gid, size].every((field) => /^\d+$/.test(field))) {
      throw new HostFileError(file, 'other', `unexpected stat output: ${result.stdout.toString('utf8').trim()}`);
    }
    return { type: fileTypeOf(mode), mode: mode & 0o7777, uid: Number(uid), gid: Number(gid), size: Number(size) };
  }

  async writeFile(file: string, content: string | Uint8Array, { mode, followSymlink = false }: WriteFileOptions): Promise<void> {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`file mode out of range: ${mode}`);
    let real = this.commandPath(file);
    if (followSymlink) {
      // readlink -e fails for a missing file or a dangling link: then the path itself is written.
      const resolved = await this.#exec([...C_LOCALE, 'readlink', '-e', '--', real]);
      const target = resolved.stdout.toString('utf8').trim();
      if (resolved.code === 0 && target.startsWith('/')) real = target;
    }
    const dir = path.posix.dirname(real);
    const temp = path.posix.join(dir, `.${path.posix.basename(real)}.${randomBytes(6).toString('hex')}.tmp`);
    // umask 077: new directories 0700, the temporary file 0600 until chmod sets `mode` exactly. set -C: the temporary
    // file is created with O_EXCL, never opened through something already there. mv -T renames over a symlink or file at
    // the path itself (rename(2)), never into a directory a symlink points to.
    const script = [
      'umask 077',
      'mkdir -p -- "$1" || exit',
      'trap \'rm -f -- "$2"\' EXIT',
      'set -C',
      'cat > "$2" || exit',
      'chmod "$4" "$2" || exit',
      'sync -- "$2" 2>/dev/null',
      'mv -f -T -- "$2" "$3" || exit',
      'trap - EXIT',
      'sync -- "$1" 2>/dev/null',
      'exit 0',
    ].join('; ');
    const result = await this.#exec([...C_LOCALE, 'sh', '-c', script, 'sh', dir, temp, real, mode.toString(8)], { stdin: content });
    if (result.code !== 0) throw fileError(file, result.stderr);
  }

  async removeFile(file: string): Promise<void> {
    const result = await this.#exec([...C_LOCALE, 'rm', '-f', '--', this.commandPath(file)]);
    if (result.code === 0) return;
    const error = fileError(file, result.stderr);
    if (error.problem === 'missing' || error.problem === 'not-a-directory') return;
    throw error;
  }

  async homeDir(): Promise<string> {
    this.#home ??= (async () => {
      // sshd sets HOME from the account's passwd entry.
      const result = await this.#exec(['printenv', 'HOME']);
      const home = result.stdout.toString('utf8').trim();
      if (result.code === 0 && path.posix.isAbsolute(home)) return home;
      const entry = await this.#exec(['getent', 'passwd', '--', this.#user]);
      const fromPasswd = entry.stdout.toString('utf8').trim().split(':')[5] ?? '';
      if (entry.code === 0 && path.posix.isAbsolute(fromPasswd)) return fromPasswd;
      throw new RootletError('ssh-home', `${this.id}: cannot tell the home directory of ${this.#user}`, {
        exitCode: ExitCode.ssh,
        hint: `check that ${this.#user} has a home directory in /etc/passwd on that host`,
      });
    })();
    this.#home.catch(() => (this.#home = undefined));
    return this.#home;
  }

  async withLock<T>(file: string, body: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const release = await this.#acquireLock(file, options);
    let result: T;
    try {
      result = await body();
    } catch (error) {
      await release().catch(() => undefined);
      throw error;
    }
    await release();
    return result;
  }

  commandPath(file: string): string {
    if (!path.posix.isAbsolute(file)) throw new Error(`host paths are absolute: ${file}`);
    return path.posix.normalize(file);
  }

  /**
   * A local unix socket whose every connection is forwarded to `remotePath` on this host (OpenSSH's
   * direct-streamlocal, as `ssh -L LOCAL.sock:REMOTE.sock`): an engine's API socket reached without opening it on TCP.
   */
  /** One forward per remote socket for the connection's life (dispose closes them). */
  async reachSocket(remotePath: string): Promise<string> {
    let forward = this.#socketForwards.get(remotePath);
    if (!forward) {
      forward = this.forwardUnixSocket(remotePath);
      this.#socketForwards.set(remotePath, forward);
      forward.catch(() => this.#socketForwards.delete(remotePath));
    }
    return (await forward).path;
  }

  async forwardUnixSocket(remotePath: string): Promise<SocketForward> {
    if (!path.posix.isAbsolute(remotePath)) throw new Error(`remote socket paths are absolute: ${remotePath}`);
    // A clear error now rather than a reset connection inside the engine client later.
    const probe = await this.#openStream(remotePath).catch((error: unknown) => {
      // A lost connection is an SSH failure (exit 5), not an engine that does not listen.
      if (error instanceof RootletError && error.code === 'ssh-closed') throw error;
      throw new RootletError('ssh-forward', `${this.id}: cannot reach ${remotePath} through SSH: ${messageOf(error)}`, {
        exitCode: ExitCode.engine,
        hint: `check that the rootless engine of ${this.#user} on that host listens on ${remotePath}, and that its sshd forwards unix sockets (AllowStreamLocalForwarding yes, AllowTcpForwarding yes or local, no PermitOpen: OpenSSH 9.2 refuses them otherwise)`,
        cause: error,
      });
    });
    probe.destroy();

    const dir = await mkdtemp(path.join(tmpdir(), 'rootlet-ssh-'));
    const socketPath = path.join(dir, 'remote.sock');
    const open = new Set<Socket>();
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => socket.destroy());
      this.#openStream(remotePath).then(
        (channel) => splice(socket, channel),
        () => socket.destroy(),
      );
    });
    try {
      await listen(server, socketPath);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const forward: SocketForward = {
      path: socketPath,
      close: async () => {
        this.#forwards.delete(forward);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of open) socket.destroy();
        await closed;
        await rm(dir, { recursive: true, force: true });
      },
    };
    this.#forwards.add(forward);
    return forward;
  }

  /** Closes the forwarded sockets and the connection. */
  async dispose(): Promise<void> {
    await Promise.all([...this.#forwards].map((forward) => forward.close()));
    this.#ssh.dispose();
  }

  async #openStream(remotePath: string): Promise<ClientChannel> {
    this.#assertConnected();
    try {
      return (await this.#ssh.forwardOutStreamLocal(remotePath)) as ClientChannel;
    } catch (error) {
      this.#noteClosed(error);
      this.#assertConnected();
      throw error;
    }
  }

  /** ssh2 answers a new channel on a socket that has just closed with "Not connected", before any close event. */
  #noteClosed(error: unknown): void {
    if (error instanceof Error && error.message === 'Not connected') this.#closed = true;
  }

  /**
   * Once the connection has gone (sshd killed, the link cut, the host rebooted): the error to show for it, whatever a
   * command or a forwarded socket failed with meanwhile (a reset engine socket says nothing about SSH). Undefined while
   * it is up.
   */
  connectionLost(): RootletError | undefined {
    if (this.#ssh.isConnected() && !this.#closed) return undefined;
    return new RootletError('ssh-closed', `ssh: the connection to ${this.id} was lost${this.#lost ? ` (${messageOf(this.#lost)})` : ''}`, {
      exitCode: ExitCode.ssh,
      hint: 're-run; if it keeps happening, check the network and the sshd log on that host',
      ...(this.#lost ? { cause: this.#lost } : {}),
    });
  }

  #assertConnected(): void {
    const lost = this.connectionLost();
    if (lost) throw lost;
  }

  /** One command over its own session channel: the argv quoted by shellLine, stdin streamed, output kept as bytes. */
  async #exec(command: Command, { stdin, signal, timeoutMs }: RunOptions = {}): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
    signal?.throwIfAborted();
    const release = await this.#sessions.take();
    // The session counts against sshd's MaxSessions until its channel closes, even after an abort returned early.
    let closed: Promise<unknown> = Promise.resolve();
    try {
      signal?.throwIfAborted();
      this.#assertConnected();
      // timeout(1) kills the command on the host and exits 124; the channel then closes by itself.
      const argv = timeoutMs === undefined ? command : ['timeout', '-k', '5', `${Math.max(timeoutMs, 1) / 1000}`, ...command];
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let channel: ClientChannel | undefined;
      const running = this.#ssh.execCommand(shellLine(argv), {
        noTrim: true,
        // node-ssh decodes every chunk to a string on its own, splitting multi-byte characters; ours are the raw bytes.
        encoding: 'latin1',
        ...(stdin === undefined ? {} : { stdin: typeof stdin === 'string' ? stdin : Readable.from([Buffer.from(stdin)]) }),
        onChannel: (opened) => {
          channel = opened;
          if (signal?.aborted) stopRemote(opened);
        },
        onStdout: (chunk) => stdout.push(chunk),
        onStderr: (chunk) => stderr.push(chunk),
      });
      closed = running.catch(() => undefined);
      const result = await untilAborted(running, signal, () => channel && stopRemote(channel));
      let code = result.code;
      // Killed by a signal (ssh2 names it "SIGKILL"): the shell's convention, 128 + its number.
      if (code === null && result.signal !== null) code = 128 + (constants.signals[result.signal.replace(/^(SIG)?/, 'SIG') as NodeJS.Signals] ?? 127);
      if (code === null) {
        this.#assertConnected();
        throw new RootletError('ssh-closed', `ssh: ${this.id}: ${command[0]} ended without an exit status`, { exitCode: ExitCode.ssh, hint: 're-run' });
      }
      return { code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
    } catch (error) {
      if (error instanceof RootletError || signal?.aborted) throw error;
      this.#noteClosed(error);
      this.#assertConnected();
      throw new RootletError('ssh-session', `ssh: ${this.id}: cannot run ${command[0]}: ${messageOf(error)}`, {
        exitCode: ExitCode.ssh,
        hint: 'check the sshd log on that host (MaxSessions, a forced command or a restricted shell refuse commands)',
        cause: error,
      });
    } finally {
      void closed.finally(release);
    }
  }

  async #acquireLock(file: string, { timeoutMs = DEFAULT_LOCK_TIMEOUT_MS, signal }: LockOptions): Promise<() => Promise<void>> {
    const real = this.commandPath(file);
    const me = `${process.pid} ${hostname()}`;
    // One round trip per attempt: create the lock with O_EXCL (set -C), or say who holds it and since when.
    const tryLock = [
      'umask 077',
      'mkdir -p -- "$3" || exit',
      'set -C',
      'if err=$( { printf "%s\\n" "$2" > "$1"; } 2>&1 ); then stat -c "acquired %i" -- "$1"; exit; fi',
      'if [ -e "$1" ] || [ -L "$1" ]; then stat -c "held %i %Y $(date +%s)" -- "$1" 2>/dev/null || { echo gone; exit 0; }; head -n 1 -- "$1" 2>/dev/null; exit 0; fi',
      // Held when we tried, released before we looked: try again (not an error).
      'case "$err" in *"File exists"*) echo gone; exit 0;; esac',
      'printf "%s\\n" "$err" >&2',
      'exit 1',
    ].join('; ');
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const result = await this.#exec([...C_LOCALE, 'sh', '-c', tryLock, 'sh', real, me, path.posix.dirname(real)]);
      if (result.code !== 0) throw fileError(file, result.stderr);
      const [status = '', holderLine = ''] = result.stdout.toString('utf8').split('\n');
      const [word, ino, mtime, now] = status.split(' ');
      if (word === 'acquired') return () => this.#releaseLock(file, real, ino ?? '');
      let holder: LockHolder | undefined;
      if (word === 'held') {
        const [pidText, host] = holderLine.trim().split(/\s+/);
        const pid = /^\d+$/.test(pidText ?? '') && Number(pidText) > 0 ? Number(pidText) : undefined;
        holder = { pid, host, ageMs: (Number(now) - Number(mtime)) * 1000, ino: ino ?? '' };
        if (isStale(holder)) {
          await this.#takeOverStaleLock(file, real, holder);
          continue;
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw lockTimeout(this.id, file, timeoutMs, holder);
      if (holder === undefined) continue;
      const pause = Math.min(remaining, 10 * Math.min(attempt + 1, 10) + Math.random() * 10);
      await sleep(pause, undefined, signal ? { signal } : undefined).catch((error: unknown) => {
        signal?.throwIfAborted();
        throw error;
      });
    }
  }

  /** Only our own lock: never one that replaced it. */
  async #releaseLock(file: string, real: string, ino: string): Promise<void> {
    const script = 'if [ "$(stat -c %i -- "$1" 2>/dev/null)" = "$2" ]; then rm -f -- "$1" || exit; fi';
    const result = await this.#exec([...C_LOCALE, 'sh', '-c', script, 'sh', real, ino]);
    if (result.code !== 0) throw fileError(file, result.stderr);
  }

  /** As LocalHost: move the stale lock aside, and put it back if what moved was a new holder's lock. */
  async #takeOverStaleLock(file: string, real: string, stale: LockHolder): Promise<void> {
    const aside = `${real}.stale-${randomBytes(6).toString('hex')}`;
    const script = [
      'mv -f -T -- "$1" "$2" 2>/dev/null || exit 0',
      'if [ "$(stat -c %i -- "$2")" != "$3" ]; then ln -- "$2" "$1" 2>/dev/null; fi',
      'rm -f -- "$2"',
    ].join('; ');
    const result = await this.#exec([...C_LOCALE, 'sh', '-c', script, 'sh', real, aside, stale.ino]);
    if (result.code !== 0) throw fileError(file, result.stderr);
  }
}

interface LockHolder {
  pid: number | undefined;
  host: string | undefined;
  ageMs: number;
  ino: string;
}

/** The rule LocalHost follows; the pid is a process on the machine that took the lock, which may be this one. */
function isStale(holder: LockHolder): boolean {
  if (holder.ageMs < STALE_LOCK_MS) return false;
  if (holder.pid === undefined) return true;
  if (holder.host !== undefined && holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function lockTimeout(id: string, file: string, timeoutMs: number, holder: LockHolder | undefined): RootletError {
  const by = holder?.pid === undefined ? '' : ` by pid ${holder.pid}${holder.host === undefined ? '' : ` on ${holder.host}`}`;
  return new RootletError('file-locked', `${id}:${file}: still locked${by} after ${Math.round(timeoutMs / 100) / 10}s`, {
    hint: `wait for the other rootlet or kubectl to finish; if none is running, remove ${file} on ${id}`,
  });
}

/** ssh2 prefers the first algorithm both sides have: ask for the key types known_hosts holds, so they can be checked. */
function hostKeyPreference(entries: readonly KnownHostsEntry[], target: SshTarget): Pick<Config, 'algorithms'> {
  const known: string[] = knownKeyTypes(entries, target.host, target.port).flatMap((type) =>
    type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type],
  );
  const first = HOST_KEY_ALGORITHMS.filter((algorithm) => known.includes(algorithm));
  if (first.length === 0) return {};
  return { algorithms: { serverHostKey: [...first, ...HOST_KEY_ALGORITHMS.filter((algorithm) => !first.includes(algorithm))] } };
}

interface AuthPlan {
  methods: AnyAuthMethod[];
  /** What was offered, for the error when the server takes none. */
  tried: string[];
}

async function authMethods(local: Host, home: string, username: string, options: SshConnectOptions): Promise<AuthPlan> {
  const agent = (options.env ?? process.env).SSH_AUTH_SOCK;
  const useAgent = agent !== undefined && agent !== '' && (await local.stat(agent).catch(() => undefined))?.type === 'socket';
  const plan: AuthPlan = { methods: [], tried: [] };
  const explicit = (options.identityFiles ?? []).map((file) => path.resolve(file));
  for (const file of explicit) {
    const text = await local.readText(file).catch((error: unknown) => {
      throw new RootletError('ssh-identity', `--identity ${file}: ${messageOf(error)}`, {
        exitCode: ExitCode.usage,
        hint: 'pass the private key file of the key that host accepts',
      });
    });
    if (isPassphraseProtected(text)) {
      if (useAgent) continue; // the agent may hold it, unlocked
      throw new RootletError('ssh-identity', `--identity ${file} is protected by a passphrase, and rootlet does not prompt for it`, {
        exitCode: ExitCode.ssh,
        hint: `add it to ssh-agent (eval "$(ssh-agent)"; ssh-add ${file}) and re-run`,
      });
    }
    plan.methods.push({ type: 'publickey', username, key: text });
    plan.tried.push(file);
  }
  if (useAgent) {
    plan.methods.push({ type: 'agent', username, agent });
    plan.tried.push(`ssh-agent (${agent})`);
  }
  if (explicit.length === 0) {
    for (const name of DEFAULT_KEYS) {
      const file = path.join(home, '.ssh', name);
      const text = await local.readText(file).catch(() => undefined);
      // A passphrase-protected default key is the agent's job; ssh would prompt, rootlet does not.
      if (text === undefined || isPassphraseProtected(text)) continue;
      plan.methods.push({ type: 'publickey', username, key: text });
      plan.tried.push(file);
    }
  }
  return plan;
}

/** An OpenSSH-format key whose cipher is not "none", or an encrypted PEM key. */
function isPassphraseProtected(text: string): boolean {
  if (/Proc-Type:\s*4,ENCRYPTED|BEGIN ENCRYPTED PRIVATE KEY/.test(text)) return true;
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text)?.[1];
  if (body === undefined) return false;
  const blob = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (blob.toString('latin1', 0, magic.length) !== magic || blob.length < magic.length + 4) return false;
  const length = blob.readUInt32BE(magic.length);
  return blob.toString('latin1', magic.length + 4, magic.length + 4 + length) !== 'none';
}

function isHostDenied(error: unknown): boolean {
  return /Host denied/.test(messageOf(error));
}

function hostKeyError(verdict: HostKeyVerdict, target: SshTarget, files: readonly string[]): RootletError {
  const where = targetId({ ...target, user: undefined });
  const key = `${verdict.keyType} ${verdict.fingerprint}`;
  const line = verdict.entry === undefined ? '' : `${verdict.entry.file}:${verdict.entry.line}`;
  switch (verdict.status) {
    case 'changed':
      return new RootletError('ssh-host-key-changed', `ssh: the host key of ${where} has CHANGED: it is now ${key}, but ${line} holds another one`, {
        exitCode: ExitCode.ssh,
        hint: `someone may be intercepting the connection; only if you know why the key changed (the host was reinstalled), remove the old line: ssh-keygen -R '${knownHostsName(target.host, target.port)}' -f ${verdict.entry?.file ?? files[0]}`,
      });
    case 'revoked':
      return new RootletError('ssh-host-key-revoked', `ssh: the host key of ${where} (${key}) is revoked in ${line}`, {
        exitCode: ExitCode.ssh,
        hint: 'do not connect to it; ask its administrator for the host key it uses now',
      });
    default:
      return new RootletError('ssh-host-key-unknown', `ssh: the host key of ${where} is not known: ${key}`, {
        exitCode: ExitCode.ssh,
        hint: `verify that fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_${verdict.keyType.replace(/^ssh-|-.*$/g, '')}_key.pub), then re-run with --accept-new-host-keys to record it in ${files[0] ?? '~/.ssh/known_hosts'}`,
      });
  }
}

function connectError(error: unknown, target: SshTarget & { user: string }, id: string, tried: readonly string[]): RootletError {
  const { code, level } = error as { code?: unknown; level?: unknown };
  const message = messageOf(error);
  const address = targetId({ ...target, user: undefined });
  const portFlag = target.port === 22 ? '' : ` -p ${target.port}`;
  const fail = (kind: string, text: string, hint: string) => new RootletError(kind, `ssh: ${text}`, { exitCode: ExitCode.ssh, hint, cause: error });
  switch (code) {
    case 'ECONNREFUSED':
      return fail('ssh-connect', `${address}: connection refused`, `check that sshd runs on ${target.host} and listens on port ${target.port}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail('ssh-connect', `cannot resolve ${target.host}`, 'check the host name, or give its IP address');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return fail('ssh-connect', `${address}: no route to host`, `check that ${target.host} is up and reachable from here`);
    case 'ECONNRESET':
      return fail('ssh-connect', `${address}: the connection was reset`, `check sshd on ${target.host} (its log, MaxStartups, a firewall)`);
  }
  if (level === 'client-timeout' || code === 'ETIMEDOUT') {
    return fail('ssh-timeout', `${address}: no SSH answer in time`, `check that ${target.host}:${target.port} is reachable and runs sshd, or allow longer`);
  }
  if (/authentication methods failed|Too many authentication failures/i.test(message)) {
    const offered = tried.length === 0 ? 'no key at all (no --identity, no ssh-agent, no ~/.ssh/id_* without a passphrase)' : tried.join(', ');
    return fail(
      'ssh-auth',
      `${id}: permission denied; offered ${offered}`,
      `add your public key to ~${target.user}/.ssh/authorized_keys there (ssh-copy-id${portFlag} ${target.user}@${target.host}), or pass --identity FILE`,
    );
  }
  if (level === 'agent') {
    return fail('ssh-auth', `${id}: ssh-agent failed: ${message}`, 'start ssh-agent again, or unset SSH_AUTH_SOCK and pass --identity FILE');
  }
  if (/before handshake/.test(message)) {
    return fail(
      'ssh-connect',
      `${address}: the connection closed before the SSH handshake`,
      `check that port ${target.port} on ${target.host} is sshd's, and that sshd accepts connections from here (its log, MaxStartups)`,
    );
  }
  return fail('ssh-connect', `${id}: ${message}`, `check that \`ssh${portFlag} ${target.user}@${target.host} true\` works from here`);
}

function fileError(file: string, stderr: Buffer): HostFileError {
  const text = stderr.toString('utf8');
  const problem = fileProblemOf(text);
  const words: Record<FileProblem, string | undefined> = {
    missing: 'no such file or directory',
    denied: 'permission denied',
    'not-a-directory': 'not a directory',
    other: /Not a regular file/.test(text) ? 'not a regular file' : undefined,
  };
  return new HostFileError(file, problem, words[problem] ?? (printable(text.trim().split('\n').at(-1) ?? '') || 'failed'));
}

/** The errno words of coreutils and POSIX shells in the C locale. */
function fileProblemOf(stderr: string): FileProblem {
  if (/Permission denied|Operation not permitted/.test(stderr)) return 'denied';
  if (/Not a directory|File exists/.test(stderr)) return 'not-a-directory';
  if (/No such file or directory|nonexistent/.test(stderr)) return 'missing';
  return 'other';
}

function fileTypeOf(mode: number): FileType {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o020000:
      return 'char-device';
    case 0o060000:
      return 'block-device';
    case 0o140000:
      return 'socket';
    case 0o010000:
      return 'fifo';
    default:
      return 'symlink';
  }
}

/** The work's result, or the signal's reason as soon as it fires (after `onAbort`), whichever comes first. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (signal === undefined) return work;
  let abort = () => {};
  const aborted = new Promise<undefined>((resolve) => {
    abort = () => resolve(undefined);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
  });
  try {
    const first = await Promise.race([work.then((value) => ({ value })), aborted]);
    if (first !== undefined) return first.value;
    onAbort();
    signal.throwIfAborted();
    throw new Error('aborted');
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/**
 * Kills the remote command (SIGKILL to the session's process, which sshd delivers) and closes its channel. ssh2's
 * channel.signal() does nothing once stdin is closed, and execCommand closes it at once for commands without stdin,
 * although RFC 4254 allows a signal request at any time; so the request goes through ssh2's protocol object when it
 * is there. Without it the channel is still closed, and the command ends when it next writes.
 */
function stopRemote(channel: ClientChannel): void {
  const inner = channel as unknown as { _client?: { _protocol?: { signal?: unknown } }; outgoing?: { id?: unknown; state?: unknown } };
  const protocol = inner._client?._protocol;
  const id = inner.outgoing?.id;
  if (protocol && typeof protocol.signal === 'function' && typeof id === 'number' && (inner.outgoing?.state === 'open' || inner.outgoing?.state === 'eof')) {
    try {
      (protocol.signal as (channel: number, name: string) => void).call(protocol, id, 'KILL');
    } catch {
      // The channel is closing anyway.
    }
  }
  channel.close();
}

/** Both directions, each closing its side when the other does: HTTP clients half-close after a request body. */
function splice(socket: Socket, channel: ClientChannel): void {
  if (socket.destroyed) {
    channel.close();
    return;
  }
  socket.pipe(channel);
  channel.pipe(socket);
  channel.on('error', () => socket.destroy());
  // After what the remote sent has reached the local client, not before.
  channel.on('close', () => socket.end(() => socket.destroy()));
  socket.on('close', () => channel.close());
}

function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A counting semaphore: at most `size` holders, the rest wait in order. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  async take(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

/**
 * An error's text as one printable line: messages may carry what the server sent (a disconnect reason, stderr),
 * which must not bring newlines, fake "hint:" lines or terminal escapes into rootlet's output.
 */
function messageOf(error: unknown): string {
  return printable(error instanceof Error ? error.message : String(error));
}

function printable(text: string, max = 200): string {
  const flat = text.replace(/\p{Cc}+/gu, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}
