/**
 * `rootlet load`: images from this host's engine (or a saved archive) streamed into every node's containerd through
 * the engine's exec stdin — local nodes and the nodes of joined hosts alike, no temporary file anywhere. A node that
 * has the image under the wanted name is skipped; one that has it under another name (Podman's localhost/) is tagged.
 */
import { PassThrough, type Readable } from 'node:stream';
import { Listr, type ListrTask } from 'listr2';
import type { Engine } from '../engine/engine.js';
import { engineName } from '../engine/errors.js';
import { fileIn } from '../engine/archive.js';
import type { ExecResult, ImageInfo, NodeState } from '../engine/types.js';
import { asRootletError, ExitCode, interrupted, RootletError, UsageError } from '../errors.js';
import { HostFileError, type Host } from '../host/host.js';
import {
  archiveImages,
  containerdName,
  importArgv,
  inspectArgv,
  parseInspect,
  parseSnapshotter,
  pulledAlways,
  snapshotterArgv,
  tagArgv,
} from '../kube/images.js';
import { Transcript } from '../kube/transcript.js';
import { readMembers, type MemberHost } from './members.js';
import { memberHostError, withMemberEngine, type SshConnect } from './member-hosts.js';
import { commandEcho, listrOptions, type ProgressStyle } from './progress.js';

/** One thing to load: an image of the engine, or an archive (which may hold several images). */
export interface LoadItem {
  /** What the user named: the image reference, or the archive's path. */
  label: string;
  /** Names the kubelet will ask for, each with the image id it must resolve to. */
  wanted: Array<{ name: string; id: string }>;
  /** Other names the same image may already have in a node (the engine's own tags), to tag from instead of importing. */
  aliases: string[];
  /** A fresh archive stream; called once per engine that needs it. */
  open: () => Promise<NodeJS.ReadableStream>;
}

export interface LoadOptions {
  local: Host;
  env: Record<string, string | undefined>;
  engine: Engine;
  cluster: string;
  items: LoadItem[];
  /** Only these nodes (names); empty: every node of the cluster. */
  nodes: string[];
  connect: SshConnect;
  signal: AbortSignal;
  progress: ProgressStyle;
}

export type LoadOutcome = 'loaded' | 'tagged' | 'present' | 'failed';

export interface NodeLoad {
  node: string;
  /** `this host`, or the member host's user@host. */
  host: string;
  item: string;
  outcome: LoadOutcome;
  seconds: number;
  error?: ReturnType<RootletError['toJSON']>;
}

export interface LoadResult {
  cluster: string;
  nodes: NodeLoad[];
  notes: string[];
  seconds: number;
}

export const THIS_HOST = 'this host';

/** The image of the user's engine as a load item: the name a pod would use, the engine's id and tags. */
export async function engineItem(engine: Engine, reference: string): Promise<LoadItem> {
  // Podman's Docker API does not resolve a short name to its own local builds (localhost/app:1), its CLI does.
  const local = engine.info.kind === 'podman' && !containerdName(reference).startsWith('localhost/') && !reference.includes('/');
  const names = local ? [reference, `localhost/${reference}`] : [reference];
  let image: ImageInfo | undefined;
  let found = reference;
  for (const name of names) {
    image = await engine.inspectImage(name);
    found = name;
    if (image) break;
  }
  if (!image)
    throw new RootletError('image-missing', `image ${reference} is not in ${engineName(engine.info)}`, {
      hint: `build or pull it there first (${engine.info.kind} pull ${reference}), or load a saved archive with --archive FILE`,
    });
  const byId = /^(sha256:)?[a-f0-9]{12,64}$/.test(reference);
  if (byId && image.tags.length === 0)
    throw new UsageError(
      `image ${reference} has no name: a pod can only ask for an image by name`,
      `tag it first: ${engine.info.kind} tag ${reference} NAME:TAG`,
    );
  const id = image.id;
  // Named by its id: the names it has are the ones pods use.
  const wanted = (byId ? image.tags : [reference]).map((name) => ({ name: containerdName(name), id }));
  return { label: reference, wanted, aliases: image.tags.map(containerdName), open: () => engine.exportImage(found) };
}

/** A saved archive (`docker save`, `podman save`) as one load item: its manifest.json names the images in it. */
export async function archiveItem(open: () => Promise<NodeJS.ReadableStream>, label: string): Promise<LoadItem> {
  const unreadable = (why: string) =>
    new RootletError('archive-unreadable', `cannot read the image archive ${label}: ${why}`, {
      exitCode: ExitCode.usage,
      hint: 'give a file written by docker save or podman save',
    });
  let manifest: Buffer | undefined;
  try {
    manifest = await fileIn(await open(), 'manifest.json');
  } catch (error) {
    throw error instanceof HostFileError ? unreadable(error.message) : unreadable('it is not a tar archive');
  }
  const images = manifest === undefined ? undefined : archiveImages(manifest.toString('utf8'));
  if (!images) throw unreadable('it has no manifest.json of docker save or podman save');
  const wanted = images.flatMap((image) => image.tags.map((tag) => ({ name: containerdName(tag), id: image.id })));
  if (wanted.length === 0) throw unreadable('its images have no names, and a pod can only ask for an image by name');
  return { label, wanted, aliases: [], open };
}

interface Group {
  host: string;
  /** The nodes of this group to load into. */
  nodes: string[];
  run: (body: (engine: Engine, nodes: NodeState[]) => Promise<void>) => Promise<void>;
}

type Want = LoadItem['wanted'][number];

/** One engine's nodes, every command run there recorded (and echoed with --verbose). */
class NodeCommands {
  constructor(
    readonly engine: Engine,
    readonly transcript: Transcript,
    readonly signal: AbortSignal,
  ) {}

  async run(node: string, argv: readonly string[], stdin?: NodeJS.ReadableStream): Promise<ExecResult> {
    const started = performance.now();
    const result = await this.engine.exec(node, argv, { signal: this.signal, ...(stdin ? { stdin } : {}) });
    this.transcript.record(node, argv, result.exitCode, result.stderr, Math.round(performance.now() - started));
    return result;
  }

  async image(node: string, name: string): Promise<{ id: string; names: string[] } | undefined> {
    const answer = await this.run(node, inspectArgv(name));
    return answer.exitCode === 0 ? parseInspect(answer.stdout) : undefined;
  }

  /** The wanted names the node lacks: with `sameId`, also those that name another image (an older build). */
  async missing(node: string, wanted: readonly Want[], sameId: boolean): Promise<Want[]> {
    const answers = await Promise.all(wanted.map(async (want) => ({ want, has: await this.image(node, want.name) })));
    return answers.filter(({ want, has }) => has === undefined || (sameId && has.id !== want.id)).map(({ want }) => want);
  }

  /**
   * Tags each missing name from an alias the node has (with the same id when `sameId`: before an import; after one,
   * the aliases are the image just imported, whatever id containerd gives it). Returns what is still missing.
   */
  async tagFromAliases(node: string, item: LoadItem, missing: readonly Want[], sameId: boolean): Promise<Want[]> {
    const left: Want[] = [];
    for (const want of missing) {
      let source: string | undefined;
      for (const alias of item.aliases.filter((name) => name !== want.name)) {
        const has = await this.image(node, alias);
        if (has && (!sameId || has.id === want.id)) {
          source = alias;
          break;
        }
      }
      if (source === undefined) {
        left.push(want);
        continue;
      }
      const tagged = await this.run(node, tagArgv(source, want.name));
      if (tagged.exitCode !== 0) throw nodeFailure(node, `ctr could not tag ${source} as ${want.name}`, tagged.stderr);
    }
    return left;
  }

  async snapshotter(node: string): Promise<string> {
    const dump = await this.run(node, snapshotterArgv());
    const snapshotter = dump.exitCode === 0 ? parseSnapshotter(dump.stdout) : undefined;
    if (snapshotter === undefined) throw nodeFailure(node, "cannot tell containerd's snapshotter from `containerd config dump`", dump.stderr);
    return snapshotter;
  }
}

function nodeFailure(node: string, what: string, stderr: string): RootletError {
  // Podman adds its own line when the command quit before reading all of stdin; the command's words come before it.
  const lines = stderr
    .trim()
    .split('\n')
    .filter((line) => !/^Error: (read|write) unixpacket .*connection reset by peer$/.test(line));
  const last = lines.at(-1) ?? '';
  return new RootletError('load-failed', `${node}: ${what}${last === '' ? '' : `: ${last}`}`, {
    hint: "rootlet logs collects the node's containerd log; run the load again once it is mended",
  });
}

/**
 * Loads every item into the nodes of one engine: the checks per node concurrently, then one archive stream fanned out
 * to every node that needs it (a PassThrough each, so a slow node slows the stream and a failed one stops taking it).
 */
async function loadOnEngine(commands: NodeCommands, host: string, nodes: NodeState[], items: LoadItem[], record: (load: NodeLoad) => void) {
  const { signal } = commands;
  for (const item of items) {
    const started = Date.now();
    const done = (node: string, outcome: LoadOutcome, error?: unknown) =>
      record({
        node,
        host,
        item: item.label,
        outcome,
        seconds: (Date.now() - started) / 1000,
        ...(error === undefined ? {} : { error: (signal.aborted ? interrupted(error) : asRootletError(error)).toJSON() }),
      });
    const needs: Array<{ node: string; missing: Want[]; snapshotter: string }> = [];
    await Promise.all(
      nodes.map(async ({ name: node, status }) => {
        try {
          if (status !== 'running')
            throw new RootletError('node-not-running', `node ${node} is ${status}`, {
              hint: 'start it again with rootlet up (or rootlet join for a joined host), then load again',
            });
          const missing = await commands.missing(node, item.wanted, true);
          if (missing.length === 0) return done(node, 'present');
          const left = await commands.tagFromAliases(node, item, missing, true);
          if (left.length === 0) return done(node, 'tagged');
          needs.push({ node, missing: left, snapshotter: await commands.snapshotter(node) });
        } catch (error) {
          done(node, 'failed', error);
        }
      }),
    );
    if (needs.length === 0) continue;
    if (signal.aborted) throw interrupted();
    const source = await item.open();
    // One listener per node and one per feed's pipe: many nodes are not a leak.
    (source as Readable).setMaxListeners?.(0);
    const feeds = needs.map(() => new PassThrough().on('error', () => undefined));
    source.on('error', (error: Error) => feeds.forEach((feed) => feed.destroy(error)));
    for (const feed of feeds) source.pipe(feed);
    try {
      await Promise.all(
        needs.map(async ({ node, missing, snapshotter }, index) => {
          const feed = feeds[index]!;
          try {
            const imported = await commands.run(node, importArgv(snapshotter), feed);
            if (imported.exitCode !== 0) throw nodeFailure(node, `ctr could not import ${item.label}`, imported.stderr);
            const absent = await commands.missing(node, missing, false);
            const left = await commands.tagFromAliases(node, item, absent, false);
            if (left.length > 0) throw nodeFailure(node, `imported ${item.label}, but containerd has no image ${left.map((want) => want.name).join(', ')}`, '');
            done(node, 'loaded');
          } catch (error) {
            // This node takes no more of the stream; the others go on.
            feed.resume();
            done(node, 'failed', error);
          }
        }),
      );
    } finally {
      // Every node is done with it (or failed): stop the export, or it would run to its end after a Ctrl-C.
      source.unpipe();
      (source as Readable).destroy?.();
    }
  }
}

/** Loads the items into the cluster's nodes, concurrently per host; every node's outcome is reported. */
export async function loadImages(options: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const { engine, cluster, signal } = options;
  const local = await engine.listNodes(cluster);
  const members = await readMembers(options.local, options.env, cluster);
  const known = [...local.map((node) => node.name), ...members.map((member) => member.node)];
  if (known.length === 0)
    throw new RootletError('no-cluster', `there is no cluster ${cluster} on ${engineName(engine.info)}`, {
      hint: 'see the clusters with rootlet ls, or create it with rootlet up',
    });
  const unknown = options.nodes.filter((node) => !known.includes(node));
  if (unknown.length > 0) throw new UsageError(`cluster ${cluster} has no node ${unknown.join(', ')}`, `its nodes: ${known.join(', ')}`);
  const chosen = (node: string) => options.nodes.length === 0 || options.nodes.includes(node);

  const transcript = new Transcript(commandEcho(options.progress));
  const results: NodeLoad[] = [];
  const record = (load: NodeLoad) => results.push(load);
  const groups: Group[] = [];
  const localChosen = local.filter((node) => chosen(node.name));
  if (localChosen.length > 0) groups.push({ host: THIS_HOST, nodes: localChosen.map((node) => node.name), run: (body) => body(engine, localChosen) });
  for (const member of members.filter((entry) => chosen(entry.node))) groups.push(memberGroup(member, options, cluster));

  const groupTask = (group: Group): ListrTask => ({
    title: `${group.host}: ${group.nodes.join(', ')}`,
    task: async (_, task) => {
      const before = results.length;
      try {
        await group.run((groupEngine, nodes) => loadOnEngine(new NodeCommands(groupEngine, transcript, signal), group.host, nodes, options.items, record));
      } catch (error) {
        // The host could not be reached: each of its nodes failed for that reason.
        const failure = signal.aborted ? interrupted(error) : asRootletError(error);
        for (const node of group.nodes)
          for (const item of options.items) record({ node, host: group.host, item: item.label, outcome: 'failed', seconds: 0, error: failure.toJSON() });
      }
      const mine = results.slice(before);
      const failed = mine.filter((load) => load.outcome === 'failed');
      task.title = `${group.host}: ${mine.map((load) => `${load.node} ${load.outcome}`).join(', ')}`;
      if (failed.length > 0) throw new Error(failed.map((load) => load.error?.message ?? load.node).join('; '));
    },
  });
  try {
    await new Listr(
      [
        {
          title: `Load ${options.items.map((item) => item.label).join(', ')} into cluster ${cluster}`,
          task: (_, task) => task.newListr(groups.map(groupTask), { concurrent: true, exitOnError: false }),
        },
      ],
      { ...listrOptions(options.progress), exitOnError: false },
    ).run();
  } catch {
    // Each node's outcome holds its error.
  }
  if (signal.aborted) throw interrupted();
  const names = options.items.flatMap((item) => item.wanted.map((want) => want.name));
  const notes = names
    .filter(pulledAlways)
    .map((name) => `${name} is tagged latest: pods pull it (imagePullPolicy Always) unless they set imagePullPolicy: IfNotPresent`);
  results.sort((a, b) => a.node.localeCompare(b.node) || a.item.localeCompare(b.item));
  return { cluster, nodes: results, notes, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

function memberGroup(member: MemberHost, options: LoadOptions, cluster: string): Group {
  return {
    host: member.host,
    nodes: [member.node],
    run: async (body) => {
      try {
        await withMemberEngine(member, options.connect, options.signal, async (engine) => {
          const node = await engine.inspectNode(member.node);
          if (!node || node.cluster !== cluster)
            throw new RootletError('node-missing', `node ${member.node} is missing on ${member.host}`, {
              hint: `create it again: rootlet join --name ${cluster} ${member.host}`,
            });
          await body(engine, [node]);
        });
      } catch (error) {
        throw options.signal.aborted ? error : memberHostError(member, error);
      }
    },
  };
}

export function loadExitCode(result: LoadResult): number {
  const failed = result.nodes.filter((load) => load.outcome === 'failed');
  if (failed.length === 0) return ExitCode.ok;
  const codes = new Set(failed.map((load) => load.error?.exitCode ?? ExitCode.failure));
  return codes.size === 1 ? [...codes][0]! : ExitCode.failure;
}
