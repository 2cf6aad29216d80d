/**
 * `rootlet load`: images from this host's engine (or a saved archive) streamed into every node's containerd through
 * the engine's exec stdin — local nodes and the nodes of joined hosts alike, no temporary file anywhere. A node that
 * has the image under the wanted name is skipped; one that has it under another name (Podman's localhost/) is tagged.
 */
import { PassThrough } from 'node:stream';
import { Listr, type ListrTask } from 'listr2';
import type { Engine } from '../engine/engine.js';
import { engineName } from '../engine/errors.js';
import type { ImageInfo, NodeState } from '../engine/types.js';
import { asRootletError, ExitCode, interrupted, RootletError, UsageError } from '../errors.js';
import type { Host } from '../host/host.js';
import { containerdName, importArgv, inspectArgv, parseInspect, parseSnapshotter, pulledAlways, snapshotterArgv, tagArgv } from '../kube/images.js';
import { readMembers, type MemberHost } from './members.js';
import { memberHostError, withMemberEngine, type SshConnect } from './member-hosts.js';
import { listrOptions, type ProgressStyle } from './progress.js';

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
  if (image.tags.length === 0 && /^(sha256:)?[a-f0-9]{12,64}$/.test(reference))
    throw new UsageError(
      `image ${reference} has no name: a pod can only ask for an image by name`,
      `tag it first: ${engine.info.kind} tag ${reference} NAME:TAG`,
    );
  return {
    label: reference,
    wanted: [{ name: containerdName(reference), id: image.id }],
    aliases: image.tags.map(containerdName),
    open: () => engine.exportImage(found),
  };
}

interface Group {
  host: string;
  /** The nodes of this group to load into. */
  nodes: string[];
  run: (body: (engine: Engine, nodes: NodeState[]) => Promise<void>) => Promise<void>;
}

/** What a node has of an item: undefined when it has it under every wanted name. */
async function missingNames(engine: Engine, node: string, item: LoadItem): Promise<Array<{ name: string; id: string }>> {
  const answers = await Promise.all(item.wanted.map(async (want) => ({ want, has: await nodeImage(engine, node, want.name) })));
  return answers.filter(({ want, has }) => has?.id !== want.id).map(({ want }) => want);
}

async function nodeImage(engine: Engine, node: string, name: string): Promise<{ id: string; names: string[] } | undefined> {
  const answer = await engine.exec(node, inspectArgv(name));
  return answer.exitCode === 0 ? parseInspect(answer.stdout) : undefined;
}

/** Tags each missing name from an alias the node has with the same id; returns what is still missing. */
async function tagFromAliases(engine: Engine, node: string, item: LoadItem, missing: Array<{ name: string; id: string }>) {
  const left: Array<{ name: string; id: string }> = [];
  for (const want of missing) {
    let source: string | undefined;
    for (const alias of item.aliases) {
      if (alias === want.name) continue;
      if ((await nodeImage(engine, node, alias))?.id === want.id) {
        source = alias;
        break;
      }
    }
    if (source === undefined) {
      left.push(want);
      continue;
    }
    const tagged = await engine.exec(node, tagArgv(source, want.name));
    if (tagged.exitCode !== 0) throw nodeFailure(node, `ctr could not tag ${source} as ${want.name}`, tagged.stderr);
  }
  return left;
}

function nodeFailure(node: string, what: string, stderr: string): RootletError {
  const last = stderr.trim().split('\n').at(-1) ?? '';
  return new RootletError('load-failed', `${node}: ${what}${last === '' ? '' : `: ${last}`}`, {
    hint: `look inside with: rootlet logs, or run the command in the node (its engine's exec)`,
  });
}

async function snapshotterOf(engine: Engine, node: string): Promise<string> {
  const dump = await engine.exec(node, snapshotterArgv());
  const snapshotter = dump.exitCode === 0 ? parseSnapshotter(dump.stdout) : undefined;
  if (snapshotter === undefined) throw nodeFailure(node, "cannot tell containerd's snapshotter from `containerd config dump`", dump.stderr);
  return snapshotter;
}

/**
 * Loads every item into the nodes of one engine: the checks per node concurrently, then one archive stream fanned out
 * to every node that needs it (a PassThrough each, so a slow node slows the stream and a failed one stops taking it).
 */
async function loadOnEngine(engine: Engine, host: string, nodes: NodeState[], items: LoadItem[], signal: AbortSignal, record: (load: NodeLoad) => void) {
  for (const item of items) {
    const started = Date.now();
    const done = (node: string, outcome: LoadOutcome, error?: RootletError) =>
      record({ node, host, item: item.label, outcome, seconds: (Date.now() - started) / 1000, ...(error ? { error: error.toJSON() } : {}) });
    const needs: Array<{ node: string; missing: Array<{ name: string; id: string }>; snapshotter: string }> = [];
    await Promise.all(
      nodes.map(async ({ name: node, status }) => {
        try {
          if (status !== 'running')
            throw new RootletError('node-not-running', `node ${node} is ${status}`, {
              hint: 'start it again with rootlet up (or rootlet join for a joined host)',
            });
          const missing = await missingNames(engine, node, item);
          if (missing.length === 0) return done(node, 'present');
          const left = await tagFromAliases(engine, node, item, missing);
          if (left.length === 0) return done(node, 'tagged');
          needs.push({ node, missing: left, snapshotter: await snapshotterOf(engine, node) });
        } catch (error) {
          done(node, 'failed', signal.aborted ? interrupted(error) : asRootletError(error));
        }
      }),
    );
    if (needs.length === 0) continue;
    signal.throwIfAborted();
    const source = await item.open();
    const feeds = needs.map(() => new PassThrough());
    source.on('error', (error: Error) => feeds.forEach((feed) => feed.destroy(error)));
    for (const feed of feeds) source.pipe(feed);
    await Promise.all(
      needs.map(async ({ node, missing, snapshotter }, index) => {
        const feed = feeds[index]!;
        try {
          const imported = await engine.exec(node, importArgv(snapshotter), { stdin: feed, signal });
          if (imported.exitCode !== 0) throw nodeFailure(node, `ctr could not import ${item.label}`, imported.stderr);
          const left = await tagFromAliases(engine, node, item, await missingNames(engine, node, { ...item, wanted: missing }));
          if (left.length > 0) throw nodeFailure(node, `imported ${item.label}, but containerd has no image ${left.map((want) => want.name).join(', ')}`, '');
          done(node, 'loaded');
        } catch (error) {
          // This node takes no more of the stream; the others go on.
          feed.resume();
          done(node, 'failed', signal.aborted ? interrupted(error) : asRootletError(error));
        }
      }),
    );
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
        await group.run((groupEngine, nodes) => loadOnEngine(groupEngine, group.host, nodes, options.items, signal, record));
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
