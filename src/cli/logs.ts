import path from 'node:path';
import { z } from 'zod';
import { assertFree, collectLogs, defaultLogsDirectory, writeLogsArchive, writeLogsDirectory } from '../cluster/collect-logs.js';
import { engineFor } from '../cluster/engine-choice.js';
import { DEFAULT_CLUSTER_NAME } from '../config/cluster-file.js';
import { ExitCode } from '../errors.js';
import { LocalHost } from '../host/local-host.js';
import { versionText } from '../pins.js';
import { clusterFlags, engineChoiceFlags } from './cluster-flags.js';
import { withInterrupt } from './interrupt.js';
import { printJson } from './output.js';
import { parseOptions } from './parse-options.js';
import { connectSsh } from './ssh-connect.js';

declare const ROOTLET_VERSION: string;

const Options = engineChoiceFlags.extend({
  name: clusterFlags.shape.name,
  archive: z.boolean().default(false),
  json: z.boolean().default(false),
});

/** `rootlet logs [DIR]`: prints where the logs went; exit 0 even when some pieces could not be read (errors.txt says which). */
export async function logsCommand(raw: unknown, dir: string | undefined): Promise<number> {
  const options = parseOptions(Options, raw);
  const host = new LocalHost();
  const cluster = options.name ?? DEFAULT_CLUSTER_NAME;
  const target = path.resolve(dir ?? defaultLogsDirectory(process.cwd(), cluster, new Date()));
  const destination = options.archive ? (/\.(tar\.gz|tgz)$/.test(target) ? target : `${target}.tar.gz`) : target;
  await assertFree(host, destination);
  const engine = await engineFor(host, { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful }, process.env);
  const version = versionText(typeof ROOTLET_VERSION === 'string' ? ROOTLET_VERSION : '0.0.0-dev');
  const collected = await withInterrupt((signal) =>
    collectLogs({ local: host, env: process.env, engine, cluster, connect: connectSsh, signal, rootletVersion: version }),
  );
  if (options.archive) await writeLogsArchive(host, destination, collected);
  else await writeLogsDirectory(host, destination, collected);
  if (options.json)
    printJson({ cluster, path: destination, archive: options.archive, nodes: collected.nodes, files: collected.files.size, problems: collected.problems });
  else {
    process.stderr.write(
      `Collected ${collected.files.size} files of cluster ${cluster} (${collected.nodes.join(', ')})${collected.problems.length === 0 ? '' : `; ${collected.problems.length} could not be read (see errors.txt)`}\n`,
    );
    process.stdout.write(`${destination}\n`);
  }
  return ExitCode.ok;
}
