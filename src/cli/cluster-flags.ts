import path from 'node:path';
import { z } from 'zod';
import { ExitCode, RootletError, UsageError } from '../errors.js';
import { progressStyle, type ProgressStyle } from '../cluster/progress.js';
import { ClusterName, CniName, IpAddress, type ClusterFile } from '../config/cluster-file.js';
import { loadClusterFile } from '../config/load-cluster-file.js';
import type { Host } from '../host/host.js';
import { HOST_CHECKS } from '../doctor/checks/index.js';

const integer = (min: number, max: number) => z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

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

/** Reads and validates `-f FILE` through the host; a missing or unreadable file is a usage error. */
export async function loadClusterFileFrom(host: Host, file: string): Promise<ClusterFile> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await host.readText(absolute);
  } catch (error) {
    throw new RootletError('cluster-file', `cannot read the cluster file ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      exitCode: ExitCode.usage,
      hint: 'pass -f with the path of a cluster file (see README, "Cluster file")',
    });
  }
  return loadClusterFile(absolute, text);
}
