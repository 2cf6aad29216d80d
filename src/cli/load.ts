import path from 'node:path';
import { z } from 'zod';
import { engineFor } from '../cluster/engine-choice.js';
import { engineItem, loadExitCode, loadImages, type LoadItem, type LoadResult } from '../cluster/load.js';
import { DEFAULT_CLUSTER_NAME } from '../config/cluster-file.js';
import { fileIn } from '../engine/archive.js';
import { ExitCode, RootletError, UsageError } from '../errors.js';
import { HostFileError } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import { archiveImages, containerdName } from '../kube/images.js';
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

/** A saved archive (`docker save`, `podman save`) as one load item: its manifest.json names the images in it. */
async function archiveItem(host: LocalHost, file: string): Promise<LoadItem> {
  const absolute = path.resolve(file);
  const unreadable = (error: unknown) =>
    new RootletError('archive-unreadable', `cannot read the image archive ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      exitCode: ExitCode.usage,
      hint: 'give a file written by docker save or podman save',
    });
  let manifest: Buffer | undefined;
  try {
    manifest = await fileIn(await host.openRead(absolute), 'manifest.json');
  } catch (error) {
    throw error instanceof HostFileError ? unreadable(error) : unreadable(new Error('it is not a tar archive'));
  }
  const images = manifest === undefined ? undefined : archiveImages(manifest.toString('utf8'));
  if (!images) throw unreadable(new Error('it has no manifest.json of docker save or podman save'));
  const wanted = images.flatMap((image) => image.tags.map((tag) => ({ name: containerdName(tag), id: image.id })));
  if (wanted.length === 0) throw unreadable(new Error('its images have no names, and a pod can only ask for an image by name'));
  return { label: file, wanted, aliases: [], open: () => host.openRead(absolute) };
}

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
  const host = new LocalHost();
  const engine = await engineFor(host, { socket: options.engineSocket, kind: options.engine, allowRootful: options.allowRootful }, process.env);
  const items =
    options.archive === undefined ? await Promise.all(images.map((image) => engineItem(engine, image))) : [await archiveItem(host, options.archive)];
  const result = await withInterrupt((signal) =>
    loadImages({
      local: host,
      env: process.env,
      engine,
      cluster: options.name ?? DEFAULT_CLUSTER_NAME,
      items,
      nodes: options.nodes,
      connect: connectSsh,
      signal,
      progress: progressOf(options),
    }),
  );
  if (options.json) printJson(result);
  else process.stdout.write(render(result, colorFor(process.stdout)));
  return loadExitCode(result);
}
