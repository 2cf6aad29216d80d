import path from 'node:path';
import { z } from 'zod';
import { ExitCode, RootletError, UsageError } from '../errors.js';
import { progressStyle, type ProgressStyle } from '../cluster/progress.js';
import { ClusterName, CniName, IpAddress, type ClusterFile } from '../config/cluster-file.js';
import { MAX_YAML_BYTES, sizeProblem } from '../config/bounded-yaml.js';
import { ClusterFileError, formatPath, loadClusterFile } from '../config/load-cluster-file.js';
import { HostFileError, type Host } from '../host/host.js';
import { HOST_CHECKS } from '../doctor/checks/index.js';

const integer = (min: number, max: number) => {
  const range = { error: `must be a whole number from ${min} to ${max}` };
  return z.string().regex(/^\d+$/, range).transform(Number).pipe(z.number().int().min(min, range).max(max, range));
};

/** Flags that describe the cluster; they set no defaults (defaults < file < flags), and the merge validates the rest. */
export const clusterFlags = z.object({
  name: ClusterName.optional(),
  workers: integer(0, 20).optional(),
  cni: CniName.optional(),
  // A path on the command line is relative to the working directory.
  cniManifest: z
    .string()
    .min(1)
    .transform((file) => path.resolve(file))
    .optional(),
  image: z.string().min(1).optional(),
  wait: z.string().min(1).optional(),
  apiServerPort: integer(1, 65535).optional(),
  apiServerAddress: IpAddress.optional(),
  advertiseAddress: z.union([z.literal('auto'), IpAddress], { error: 'must be an IP address of this host, or auto' }).optional(),
});

/** `--ignore-check ID` (repeatable): doctor check ids whose failure does not stop up or join. */
export const ignoreCheckFlag = z
  .array(
    z.string().refine((id) => HOST_CHECKS.some((check) => check.id === id), {
      error: (issue) => `${JSON.stringify(issue.input)} is not a check id: use one of ${HOST_CHECKS.map((check) => check.id).join(', ')}`,
    }),
  )
  .default([]);

/** --verbose and --quiet (program-wide flags) for the commands that show progress. */
export const progressFlags = z.object({ verbose: z.boolean().default(false), quiet: z.boolean().default(false) });

/** How this command shows progress: --json and --quiet show none, --verbose every command, a terminal redraws. */
export function progressOf(options: z.infer<typeof progressFlags> & { json: boolean }): ProgressStyle {
  if (options.verbose && options.quiet) throw new UsageError('--quiet and --verbose ask for opposite things', 'give one of them');
  return progressStyle({ ...options, env: process.env, stderrIsTTY: process.stderr.isTTY === true });
}

/** Which engine: the same flags as doctor's. */
export const engineChoiceFlags = z.object({
  engine: z.enum(['podman', 'docker']).optional(),
  engineSocket: z.string().min(1).optional(),
  allowRootful: z.boolean().default(false),
});

/** The cluster file `rootlet up` and `rootlet join` read from the working directory when no -f is given. */
export const DEFAULT_CLUSTER_FILE = 'rootlet.yaml';

export interface ClusterFileSource {
  /** What `-f -` reads; default: the process's standard input. */
  stdin?: AsyncIterable<Uint8Array | string>;
  /** Default: the process's working directory. */
  cwd?: string;
  /** Where "using ./rootlet.yaml" goes; default: stderr. */
  note?: (line: string) => void;
}

const READ_HINT = 'pass -f with the path of a cluster file, or - for standard input (see README, "Cluster file")';

/** Standard input up to one byte past the limit: enough to refuse an endless stream without holding it. */
async function readLimited(input: AsyncIterable<Uint8Array | string>): Promise<Uint8Array | number> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(bytes);
    size += bytes.byteLength;
    if (size > MAX_YAML_BYTES) return size;
  }
  return Buffer.concat(chunks);
}

function tooLarge(file: string, size: number): ClusterFileError {
  const { at, ...problem } = sizeProblem(size)!;
  return new ClusterFileError(file, [{ ...problem, path: formatPath(at) }]);
}

/**
 * The cluster file of `-f FILE`, read through the host and validated; `-f -` reads standard input, whose relative
 * paths (cni.manifest, hosts[].identity) then resolve against the working directory; no -f reads ./rootlet.yaml when
 * there is one, saying so. A missing, unreadable or oversized file is a usage error (its size is checked before it is
 * read); undefined when no -f is given and there is no ./rootlet.yaml.
 */
export async function loadClusterFileFrom(host: Host, file: string | undefined, source: ClusterFileSource = {}): Promise<ClusterFile | undefined> {
  const cwd = source.cwd ?? process.cwd();
  if (file === '-') {
    const name = '<stdin>';
    const content = await readLimited(source.stdin ?? process.stdin);
    if (typeof content === 'number') throw tooLarge(name, content);
    return loadClusterFile(name, content, { baseDir: cwd });
  }
  const absolute = path.resolve(cwd, file ?? DEFAULT_CLUSTER_FILE);
  // Errors name the file as it was given, as compilers do: FILE:LINE:COL opens in an editor from the same directory.
  const given = file ?? DEFAULT_CLUSTER_FILE;
  const unreadable = (why: string) =>
    new RootletError('cluster-file', `cannot read the cluster file ${given}: ${why}`, { exitCode: ExitCode.usage, hint: READ_HINT });
  let bytes: Uint8Array;
  try {
    const info = await host.stat(absolute);
    if (info === undefined && file === undefined) return undefined;
    if (info === undefined) throw unreadable('no such file');
    if (info.type !== 'file') throw unreadable(`it is a ${info.type}, not a file`);
    if (sizeProblem(info.size)) throw tooLarge(given, info.size);
    if (file === undefined) (source.note ?? ((line) => process.stderr.write(`${line}\n`)))(`using ./${DEFAULT_CLUSTER_FILE}`);
    bytes = await host.readBytes(absolute);
  } catch (error) {
    if (error instanceof RootletError) throw error;
    throw unreadable(error instanceof HostFileError ? error.message.replace(`${absolute}: `, '') : String(error));
  }
  return loadClusterFile(given, bytes, { baseDir: path.dirname(absolute) });
}
