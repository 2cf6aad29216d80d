/**
 * `rootlet logs`: everything worth reading after a failure, per node (local and joined hosts alike) and for the
 * cluster, collected into a directory of 0600 files or one .tar.gz. Each piece is best effort: what could not be
 * read is listed in errors.txt, never a reason to stop. Every text passes redact(): no bootstrap token reaches a file.
 */
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { eachFile } from '../engine/archive.js';
import type { Engine } from '../engine/engine.js';
import { engineName } from '../engine/errors.js';
import type { NodeState } from '../engine/types.js';
import { interrupted, RootletError, UsageError } from '../errors.js';
import type { Host } from '../host/host.js';
import { runDoctor } from '../doctor/run.js';
import { CLUSTER_RECORD_PATH, KUBEADM_CONFIG_COPY_PATH } from '../kube/node-steps.js';
import { redact } from '../kube/transcript.js';
import { logDirectory } from './logs.js';
import { readMembers, type MemberHost } from './members.js';
import { withMemberEngine, type SshConnect } from './member-hosts.js';

/** Files larger than this (a runaway container log under /var/log) are left out, and say so. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
/** What one node's /var/log may add in all: the collection is held in memory until it is written. */
const MAX_NODE_BYTES = 128 * 1024 * 1024;

/** In-node commands whose output is kept, file name <- argv. */
const NODE_COMMANDS: ReadonlyArray<[string, string[]]> = [
  ['journal.log', ['journalctl', '--no-pager', '--boot']],
  ['kubelet.log', ['journalctl', '--no-pager', '--boot', '--unit=kubelet']],
  ['containerd.log', ['journalctl', '--no-pager', '--boot', '--unit=containerd']],
  ['crictl-ps.txt', ['crictl', 'ps', '--all']],
  ['crictl-images.txt', ['crictl', 'images']],
];

/** Files of the node copied as they are. */
const NODE_FILES: ReadonlyArray<[string, string]> = [
  ['kubelet-config.yaml', '/var/lib/kubelet/config.yaml'],
  ['kubeadm-flags.env', '/var/lib/kubelet/kubeadm-flags.env'],
  ['kubernetes-version.txt', '/kind/version'],
  ['kubeadm.yaml', KUBEADM_CONFIG_COPY_PATH],
];

/** Cluster-wide views, asked of the control plane. */
const CLUSTER_COMMANDS: ReadonlyArray<[string, string[]]> = [
  ['kubectl/nodes.json', ['kubectl', 'get', 'nodes', '--output=json']],
  ['kubectl/pods.json', ['kubectl', 'get', 'pods', '--all-namespaces', '--output=json']],
  ['kubectl/events.json', ['kubectl', 'get', 'events', '--all-namespaces', '--output=json']],
];

export interface CollectOptions {
  local: Host;
  env: Record<string, string | undefined>;
  engine: Engine;
  cluster: string;
  connect: SshConnect;
  signal: AbortSignal;
  rootletVersion: string;
}

export interface Collected {
  cluster: string;
  /** Relative path -> content. */
  files: Map<string, string | Buffer>;
  nodes: string[];
  /** What could not be collected, one line each (also in errors.txt). */
  problems: string[];
}

class Collection {
  readonly files = new Map<string, string | Buffer>();
  readonly problems: string[] = [];

  text(file: string, content: string): void {
    this.files.set(file, redact(content));
  }

  async try(what: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      this.problems.push(redact(`${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`));
    }
  }
}

async function collectNode(engine: Engine, node: NodeState, into: Collection, signal: AbortSignal): Promise<void> {
  const dir = node.name;
  await Promise.all([
    into.try(`${dir}/inspect.json`, async () => into.text(`${dir}/inspect.json`, `${JSON.stringify(await engine.inspectRaw(node.name), null, 2)}\n`)),
    into.try(`${dir}/console.log`, async () => into.text(`${dir}/console.log`, await engine.logs(node.name, 100_000))),
  ]);
  if (node.status !== 'running') {
    into.problems.push(`${dir}: the node is ${node.status}: only its inspect and console were collected`);
    return;
  }
  await Promise.all([
    ...NODE_COMMANDS.map(([file, argv]) =>
      into.try(`${dir}/${file}`, async () => {
        const result = await engine.exec(node.name, argv, { signal });
        into.text(`${dir}/${file}`, `${result.stdout}${result.stderr === '' ? '' : `\n--- stderr ---\n${result.stderr}`}`);
        if (result.exitCode !== 0) throw new Error(`\`${argv.join(' ')}\` exited ${result.exitCode}`);
      }),
    ),
    ...NODE_FILES.map(([file, source]) =>
      into.try(`${dir}/${file}`, async () => into.text(`${dir}/${file}`, (await engine.copyOut(node.name, source)).toString('utf8'))),
    ),
    into.try(`${dir}/var/log`, async () => untar(await engine.archiveOut(node.name, '/var/log'), `${dir}/var`, into)),
  ]);
}

/**
 * The regular files of a tar stream under `prefix`, bytes kept as they are (journal files are binary) but redacted as
 * latin1 text; paths that climb out are dropped, large files and what passes the node's budget are noted.
 */
async function untar(stream: NodeJS.ReadableStream, prefix: string, into: Collection): Promise<void> {
  let budget = MAX_NODE_BYTES;
  await eachFile(
    stream,
    (name, size) => {
      const clean = path.posix.normalize(name);
      if (clean === '..' || clean.startsWith('../') || path.posix.isAbsolute(clean)) return false;
      if (size > MAX_FILE_BYTES || size > budget) {
        into.problems.push(`${prefix}/${clean}: left out, ${size} bytes`);
        return false;
      }
      budget -= size;
      return true;
    },
    (name, content) => into.files.set(`${prefix}/${path.posix.normalize(name)}`, Buffer.from(redact(content.toString('latin1')), 'latin1')),
  );
}

async function collectEngine(engine: Engine, host: string, nodes: NodeState[], into: Collection, signal: AbortSignal): Promise<void> {
  into.text(`engines/${host}.json`, `${JSON.stringify(engine.info, null, 2)}\n`);
  await Promise.all(nodes.map((node) => collectNode(engine, node, into, signal)));
}

/** Collects the cluster's logs into memory; writing them (a directory or an archive) is the caller's choice. */
export async function collectLogs(options: CollectOptions): Promise<Collected> {
  const { engine, cluster, signal } = options;
  const into = new Collection();
  const local = await engine.listNodes(cluster);
  const members = await readMembers(options.local, options.env, cluster);
  if (local.length === 0 && members.length === 0)
    throw new RootletError('no-cluster', `there is no cluster ${cluster} on ${engineName(engine.info)}`, {
      hint: 'see the clusters with rootlet ls',
    });
  into.text('rootlet-version.txt', `${options.rootletVersion}\n`);
  if (members.length > 0) into.text('hosts.json', `${JSON.stringify(members, null, 2)}\n`);
  const controlPlane = local.find((node) => node.role === 'control-plane' && node.status === 'running');
  await Promise.all([
    into.try('doctor.json', async () => into.text('doctor.json', `${JSON.stringify(await runDoctor(options.local, { cni: 'flannel' }), null, 2)}\n`)),
    into.try('this host', () => collectEngine(engine, 'this-host', local, into, signal)),
    ...members.map((member) => into.try(member.host, () => collectMember(member, options, into))),
    into.try('rootlet logs', () => copyRootletLogs(options, into)),
    ...(controlPlane
      ? [
          into.try('cluster.json', async () => into.text('cluster.json', (await engine.copyOut(controlPlane.name, CLUSTER_RECORD_PATH)).toString('utf8'))),
          ...CLUSTER_COMMANDS.map(([file, argv]) =>
            into.try(file, async () => {
              const result = await engine.exec(controlPlane.name, argv, { signal });
              into.text(file, `${result.stdout}${result.stderr}`);
              if (result.exitCode !== 0) throw new Error(`\`${argv.join(' ')}\` exited ${result.exitCode}`);
            }),
          ),
        ]
      : []),
  ]);
  if (signal.aborted) throw interrupted();
  if (!controlPlane) into.problems.push('no running control plane: the cluster-wide views (kubectl) were not collected');
  if (into.problems.length > 0) into.text('errors.txt', `${into.problems.join('\n')}\n`);
  return { cluster, files: into.files, nodes: [...local.map((node) => node.name), ...members.map((member) => member.node)], problems: into.problems };
}

async function collectMember(member: MemberHost, options: CollectOptions, into: Collection): Promise<void> {
  await withMemberEngine(member, options.connect, options.signal, async (engine) => {
    const node = await engine.inspectNode(member.node);
    if (!node) throw new Error(`node ${member.node} is missing there`);
    await collectEngine(engine, member.host.replace(/[^A-Za-z0-9._@-]/g, '_'), [node], into, options.signal);
  });
}

/** The logs rootlet itself left for this cluster (a failed up or join), from its state directory. */
async function copyRootletLogs(options: CollectOptions, into: Collection): Promise<void> {
  const dir = await logDirectory(options.local, options.env, options.cluster);
  const names = await options.local.listDir(dir).catch(() => []);
  for (const name of names.filter((entry) => entry.endsWith('.log'))) into.text(`rootlet/${name}`, await options.local.readText(path.join(dir, name)));
}

/** Where the logs go when no directory is given: ./rootlet-logs-<cluster>-<time>. */
export function defaultLogsDirectory(cwd: string, cluster: string, now: Date): string {
  return path.join(
    cwd,
    `rootlet-logs-${cluster}-${now
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replace(/[:]/g, '')}`,
  );
}

/** Writes the collection as files under `dir` (0600 files, 0700 directories); `dir` must be new or empty. */
export async function writeLogsDirectory(host: Host, dir: string, collected: Collected): Promise<void> {
  await assertFree(host, dir);
  for (const [file, content] of collected.files) await host.writeFile(path.join(dir, file), content, { mode: 0o600 });
}

/** Writes the collection as one gzipped tar at `file` (0600), entries under a directory named after the file. */
export async function writeLogsArchive(host: Host, file: string, collected: Collected): Promise<void> {
  await assertFree(host, file);
  const top = path.basename(file).replace(/\.tar\.gz$|\.tgz$/, '');
  const pack = tar.pack();
  for (const [name, content] of collected.files) pack.entry({ name: `${top}/${name}`, mode: 0o600, mtime: new Date() }, content);
  pack.finalize();
  const gzip = createGzip();
  const [archive] = await Promise.all([buffer(gzip), pipeline(pack, gzip)]);
  await host.writeFile(file, archive, { mode: 0o600 });
}

/** A logs destination must be new (or an empty directory): checked before collecting, and again when writing. */
export async function assertFree(host: Host, target: string): Promise<void> {
  const info = await host.stat(target);
  if (info === undefined) return;
  if (info.type === 'directory' && (await host.listDir(target)).length === 0) return;
  throw new UsageError(`${target} exists already`, 'name a new directory (rootlet logs DIR), or remove it first');
}
