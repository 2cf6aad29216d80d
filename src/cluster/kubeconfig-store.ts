/**
 * The user's kubeconfig file: which one, and merging a cluster's entries into it or removing them, through Host only.
 * Every read-merge-write holds `<file>.lock`, the lock client-go (kubectl) and kind take, so none of them overwrites
 * what another just wrote.
 */
import path from 'node:path';
import { ExitCode, RootletError } from '../errors.js';
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
        const merged = mergeKubeconfig(existing, entry, { switchContext: options.switchContext });
        await host.writeFile(target, renderKubeconfig(merged), { mode: KUBECONFIG_MODE, followSymlink: true });
        const names = new Set([...entry.clusters, ...entry.contexts, ...entry.users].map((item) => item.name));
        const before = existing ? [...existing.clusters, ...existing.contexts, ...existing.users] : [];
        return {
          path: target,
          created: existing === undefined,
          context,
          replaced: before.some((item) => names.has(item.name)),
          previousContext: existing?.['current-context'] ?? undefined,
          currentContext: merged['current-context'] ?? undefined,
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
    const hint = hints[error.problem];
    throw new RootletError('kubeconfig-file', error.message, { hint, cause: error });
  }
}
