import path from 'node:path';
import { z } from 'zod';
import { engineFor } from '../cluster/engine-choice.js';
import { archiveItem, engineItem, loadExitCode, loadImages, type LoadResult } from '../cluster/load.js';
import { DEFAULT_CLUSTER_NAME } from '../config/cluster-file.js';
import { UsageError } from '../errors.js';
import { LocalHost } from '../host/local-host.js';
import { clusterFlags, engineChoiceFlags, progressFlags, progressOf } from './cluster-flags.js';
import { withInterrupt } from './interrupt.js';
import { colorFor, printJson, tableLines } from './output.js';
import { parseOptions } from './parse-options.js';
import { connectSsh } from './ssh-connect.js';

const Options = engineChoiceFlags.extend(progressFlags.shape).extend({
  name: clusterFlags.shape.name,
  nodes: z.array(z.string().min(1)).default([]),
  archive: z.string().min(1).optional(),
  json: z.boolean().default(false),
});

function render(result: LoadResult, paint: ReturnType<typeof colorFor>): string {
  const failed = result.nodes.filter((load) => load.outcome === 'failed');
  const lines = [
    `${paint('bold', `Cluster ${result.cluster}`)}: ${result.nodes.length - failed.length} of ${result.nodes.length} loads done (${result.seconds}s)`,
    ...tableLines(
      ['NODE', 'HOST', 'IMAGE', 'RESULT'],
      result.nodes.map((load) => [load.node, load.host, load.item, load.outcome === 'present' ? 'present already' : load.outcome]),
    ),
  ];
  for (const load of failed) {
    lines.push(`${paint('red', load.node)}: ${load.error?.message ?? 'failed'}`);
    if (load.error?.hint) lines.push(`  hint: ${load.error.hint}`);
  }
  lines.push(...result.notes.map((note) => `note: ${note}`));
  if (failed.length > 0) lines.push('Run the same load again: nodes that have the image are skipped.');
  return `${lines.join('\n')}\n`;
}

/** `rootlet load IMAGE... | --archive FILE`: returns the exit code (0 only when every node has every image). */
export async function loadCommand(raw: unknown, images: string[]): Promise<number> {
  const options = parseOptions(Options, raw);
  if (options.archive !== undefined && images.length > 0) throw new UsageError('give images or --archive FILE, not both', 'load them in two runs');
  if (options.archive === undefined && images.length === 0)
    throw new UsageError('no image to load', 'name images of your engine (rootlet load app:1), or a saved archive (--archive app.tar)');
  const progress = progressOf(options);
  const host = new LocalHost();
  // The archive first: a file that is no image archive is the user's to mend, whatever the engine does.
  const { archive } = options;
  const saved = archive === undefined ? undefined : await archiveItem(() => host.openRead(path.resolve(archive)), archive);
  const engine = await engineFor(host, { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful }, process.env);
  const items = saved ? [saved] : await Promise.all(images.map((image) => engineItem(engine, image)));
  const result = await withInterrupt(
    (signal) =>
      loadImages({
        local: host,
        env: process.env,
        engine,
        cluster: options.name ?? DEFAULT_CLUSTER_NAME,
        items,
        nodes: options.nodes,
        connect: connectSsh,
        signal,
        progress,
      }),
    { cleanup: 'a partly imported image in a node; run the same `rootlet load` again (it imports the image anew)' },
  );
  if (options.json) printJson(result);
  else process.stdout.write(render(result, colorFor(process.stdout)));
  return loadExitCode(result);
}
