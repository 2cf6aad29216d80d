/**
 * The user's kubeconfig file: which one, and merging a cluster's entries into it or removing them, through Host only.
 * Every read-merge-write holds `<file>.lock`, the lock client-go (kubectl) and kind take, so none of them overwrites
 * what another just wrote.
 */
import path from 'node:path';
import { asRootletError, ExitCode, RootletError } from '../errors.js';
import { HostFileError, readTextIfExists, type Host } from '../host/host.js';
import {
  entryContext,
  hasClusterEntries,
  KubeconfigError,
  kubeconfigEntryName,
  mergeKubeconfig,
  parseKubeconfig,
  removeFromKubeconfig,
  renderKubeconfig,
  type Kubeconfig,
} from '../kube/kubeconfig.js';

/** kubeconfig files hold credentials (DESIGN.md, "Security stance"). */
export const KUBECONFIG_MODE = 0o600;

export interface KubeconfigTargetOptions {
  /** What relative $KUBECONFIG entries are relative to, as for kubectl; default $PWD. */
  cwd?: string;
}

/**
 * The file kubectl would merge a new cluster into: with $KUBECONFIG (split on ':', empty and repeated entries dropped)
 * the only entry, else the first that exists as a file, else the last; without it `<home>/.kube/config`. The same rule
 * as client-go's PathOptions.GetDefaultFilename and kind's pathForMerge.
 */
export async function kubeconfigTarget(host: Host, env: Record<string, string | undefined>, options: KubeconfigTargetOptions = {}): Promise<string> {
  const listed = [...new Set((env.KUBECONFIG ?? '').split(':').filter((entry) => entry !== ''))];
  if (listed.length === 0) return path.posix.join(await host.homeDir(), '.kube', 'config');
  const paths = listed.map((entry) => absolute(entry, options.cwd ?? env.PWD));
  if (paths.length === 1) return paths[0]!;
  for (const candidate of paths) {
    // As kind's fileExists: what cannot be looked at does not exist.
    const info = await host.stat(candidate).catch(() => undefined);
    if (info && info.type !== 'directory') return candidate;
  }
  return paths.at(-1)!;
}

function absolute(entry: string, cwd: string | undefined): string {
  if (path.posix.isAbsolute(entry)) return path.posix.normalize(entry);
  if (cwd !== undefined && path.posix.isAbsolute(cwd)) return path.posix.resolve(cwd, entry);
  throw new RootletError('kubeconfig-path', `KUBECONFIG names a relative path (${entry}) and the current directory is unknown`, {
    exitCode: ExitCode.usage,
    hint: 'use absolute paths in KUBECONFIG',
  });
}

/** The lock file client-go takes for `target`. */
export function kubeconfigLockPath(target: string): string {
  return `${target}.lock`;
}

export interface KubeconfigWriteOptions {
  /** How long to wait for another writer's lock (default Host's). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface KubeconfigMergeOptions extends KubeconfigWriteOptions {
  /** Make the cluster's context the current one. */
  switchContext: boolean;
}

export interface KubeconfigMerged {
  /** The file written. */
  path: string;
  /** There was no file before. */
  created: boolean;
  /** The entries' context, `rootlet-<cluster>`. */
  context: string;
  /** Entries of the same names were there and are replaced. */
  replaced: boolean;
  /** current-context before and after the write (undefined or '' when unset). */
  previousContext: string | undefined;
  currentContext: string | undefined;
  /** The file's mode before, when group or others could read or write it (its credentials were exposed); it is 0600 now. */
  exposedMode?: number;
}

/**
 * Merges a cluster's entries (from clusterKubeconfig()) into `target`, creating it (and its directory, 0700) if need
 * be, and writes it back 0600, atomically, under the lock. Other entries are kept. A file that is not a kubeconfig is
 * left alone and reported.
 */
export async function mergeIntoKubeconfig(host: Host, target: string, entry: Kubeconfig, options: KubeconfigMergeOptions): Promise<KubeconfigMerged> {
  const context = entryContext(entry);
  return withFileHints(target, () =>
    host.withLock(
      kubeconfigLockPath(target),
      async () => {
        const existing = await readKubeconfigFile(host, target);
        // Looked at before the write, which replaces the file with a 0600 one: it now holds this cluster's key too.
        const before = existing === undefined ? undefined : await host.stat(target);
        const merged = mergeKubeconfig(existing, entry, { switchContext: options.switchContext });
        await host.writeFile(target, renderKubeconfig(merged), { mode: KUBECONFIG_MODE, followSymlink: true });
        const names = new Set([...entry.clusters, ...entry.contexts, ...entry.users].map((item) => item.name));
        const entries = existing ? [...existing.clusters, ...existing.contexts, ...existing.users] : [];
        return {
          path: target,
          created: existing === undefined,
          context,
          replaced: entries.some((item) => names.has(item.name)),
          previousContext: existing?.['current-context'] ?? undefined,
          currentContext: merged['current-context'] ?? undefined,
          ...(before !== undefined && (before.mode & 0o077) !== 0 ? { exposedMode: before.mode } : {}),
        };
      },
      lockOptions(options),
    ),
  );
}

export interface KubeconfigRemoved {
  /** The file written. */
  path: string;
  /** The current context was the cluster's and is now unset. */
  clearedCurrentContext: boolean;
}

/**
 * Removes the cluster's entries (`rootlet-<name>`, nothing else) from `target`. Undefined when there was nothing to
 * remove (no file, or no such entries): then nothing is written, and no directory or lock file is created.
 */
export async function removeFromKubeconfigFile(
  host: Host,
  target: string,
  clusterName: string,
  options: KubeconfigWriteOptions = {},
): Promise<KubeconfigRemoved | undefined> {
  const name = kubeconfigEntryName(clusterName);
  return withFileHints(target, async () => {
    if ((await host.stat(target)) === undefined) return undefined;
    return host.withLock(
      kubeconfigLockPath(target),
      async () => {
        const existing = await readKubeconfigFile(host, target);
        if (!existing || !hasClusterEntries(existing, clusterName)) return undefined;
        const remaining = removeFromKubeconfig(existing, clusterName);
        await host.writeFile(target, renderKubeconfig(remaining), { mode: KUBECONFIG_MODE, followSymlink: true });
        return { path: target, clearedCurrentContext: existing['current-context'] === name };
      },
      lockOptions(options),
    );
  });
}

/** The one-line warning for a kubeconfig that others could read before rootlet rewrote it 0600. */
export function exposedKubeconfigWarning(merged: KubeconfigMerged): string | undefined {
  if (merged.exposedMode === undefined) return undefined;
  const mode = merged.exposedMode.toString(8).padStart(4, '0');
  return `${merged.path} had mode ${mode}: other users could read the credentials in it (rotate them if that matters); it is 0600 now`;
}

/**
 * The error of an `up` whose cluster is running but whose kubeconfig could not be merged (an unwritable path, a full
 * disk): exit 1, naming the file, and the command that prints the kubeconfig instead.
 */
export function kubeconfigNotWritten(cluster: string, target: string, error: unknown): RootletError {
  const known = asRootletError(error);
  const why = known.message.startsWith(`${target}: `) ? known.message.slice(target.length + 2) : known.message;
  return new RootletError('kubeconfig-not-written', `cluster ${cluster} is up, but its kubeconfig could not be written to ${target}: ${why}`, {
    details: known.hint === undefined ? [] : [`fix: ${known.hint}`],
    hint: `the cluster keeps running: \`rootlet kubeconfig --name ${cluster} --print > FILE\` writes its kubeconfig to FILE (then kubectl --kubeconfig FILE get nodes)`,
    cause: error,
  });
}

/** A kubeconfig of its own (`rootlet kubeconfig --output FILE`): replaces the file, 0600, atomically. */
export async function writeStandaloneKubeconfig(host: Host, file: string, entry: Kubeconfig): Promise<void> {
  await withFileHints(file, () => host.writeFile(file, renderKubeconfig(entry), { mode: KUBECONFIG_MODE, followSymlink: true }));
}

/** The parsed file, or undefined when there is none. */
async function readKubeconfigFile(host: Host, target: string): Promise<Kubeconfig | undefined> {
  const text = await readTextIfExists(host, target);
  if (text === undefined) return undefined;
  try {
    return parseKubeconfig(text, target);
  } catch (error) {
    if (!(error instanceof KubeconfigError)) throw error;
    throw new KubeconfigError(error.message, `fix ${target} or move it aside (rootlet does not overwrite it), then run the command again`, error);
  }
}

function lockOptions({ timeoutMs, signal }: KubeconfigWriteOptions): KubeconfigWriteOptions {
  return { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(signal === undefined ? {} : { signal }) };
}

/** File errors of the host become RootletErrors that say what to do. */
async function withFileHints<T>(target: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof HostFileError)) throw error;
    const elsewhere = 'or set KUBECONFIG to a file you can write';
    const hints: Record<HostFileError['problem'], string> = {
      denied: `check the owner and permissions of ${error.path} and its directory, ${elsewhere}`,
      'not-a-directory': `a parent of ${target} is a file, not a directory: move it, ${elsewhere}`,
      missing: `${path.posix.dirname(error.path)} was removed meanwhile: run the command again`,
      other: `${target} must be a regular file: move what is there, ${elsewhere}`,
    };
    // Disk full, quota, read-only filesystem: the words of the errno, whatever the host.
    const disk = /no space left|quota/i.test(error.message)
      ? `the filesystem of ${path.posix.dirname(error.path)} is full: free some space, ${elsewhere}`
      : /read-only file ?system/i.test(error.message)
        ? `${path.posix.dirname(error.path)} is on a read-only filesystem: ${elsewhere}`
        : undefined;
    const hint = disk ?? hints[error.problem];
    throw new RootletError('kubeconfig-file', error.message, { hint, cause: error });
  }
}
