import { PassThrough, type Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { RootletError } from '../errors.js';
import { firstFile, packArchive } from './archive.js';
import type { Engine, NetworkState, ProgressOptions } from './engine.js';
import { engineName, engineOperationFailed, statusOf } from './errors.js';
import { networkCreateRequest } from './network-spec.js';
import { POOL } from './subnet.js';
import { nodeContainerSpec, nodeVolumeSpec, varVolumeName } from './node-spec.js';
import { nodeStateFromInspect, nodeStateFromList } from './node-state.js';
import { LABELS, type ClusterSettings, type EngineInfo, type ExecOptions, type ExecResult, type ImageInfo, type NodeSpec, type NodeState } from './types.js';

/** A raw API call, for the endpoints dockerode has no method for (Podman's libpod API). */
export function dial<T>(docker: Docker, request: { method: 'GET' | 'POST'; path: string; body?: object }): Promise<T> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      { path: request.path, method: request.method, statusCodes: { 200: true, 201: true }, options: request.body ?? {} },
      (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result as T)),
    );
  });
}

/** The call's answer, or `fallback` when the engine answers `status` instead (404: not there, 304: already so). */
async function unless<T, F>(call: Promise<T>, status: number, fallback: F): Promise<T | F> {
  try {
    return await call;
  } catch (error) {
    if (statusOf(error) === status) return fallback;
    throw error;
  }
}

interface NetworkInspect {
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: Array<{ Subnet?: string }> };
}

/** The Engine over dockerode: every call to an engine goes through here (connect.ts only builds the client). */
export class DockerApiEngine implements Engine {
  readonly #docker: Docker;

  constructor(
    docker: Docker,
    readonly info: EngineInfo,
  ) {
    this.#docker = docker;
  }

  async #call<T>(operation: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw engineOperationFailed(this.info, operation, error);
    }
  }

  async hasImage(ref: string): Promise<boolean> {
    return this.#call(`look up image ${ref}`, () =>
      unless(
        this.#docker
          .getImage(ref)
          .inspect()
          .then(() => true),
        404,
        false,
      ),
    );
  }

  async pullImage(ref: string, options: ProgressOptions = {}): Promise<void> {
    await this.#call(`pull image ${ref}`, async () => {
      const stream = await this.#docker.pull(ref, { abortSignal: options.signal });
      await this.#follow(stream, options);
    });
  }

  async buildImage(context: Uint8Array, tag: string, options: ProgressOptions = {}): Promise<void> {
    await this.#call(`build image ${tag}`, async () => {
      const stream = await this.#docker.buildImage(Buffer.from(context) as unknown as NodeJS.ReadableStream, { t: tag, abortSignal: options.signal });
      await this.#follow(stream, options);
    });
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.#call(`look up image ${ref}`, () =>
      unless(
        this.#docker
          .getImage(ref)
          .inspect()
          .then((image) => ({ id: image.Id.replace(/^sha256:/, ''), tags: image.RepoTags ?? [] })),
        404,
        undefined,
      ),
    );
  }

  async exportImage(ref: string): Promise<NodeJS.ReadableStream> {
    return this.#call(`export image ${ref}`, () => this.#docker.getImage(ref).get());
  }

  async loadImage(archive: NodeJS.ReadableStream, options: ProgressOptions = {}): Promise<void> {
    await this.#call('load an image', async () => {
      const stream = await this.#docker.loadImage(archive, { abortSignal: options.signal });
      await this.#follow(stream, options);
    });
  }

  /** Waits for a pull or build stream to end; any event with an error fails it (the stream itself does not). */
  async #follow(stream: NodeJS.ReadableStream, { onProgress }: ProgressOptions): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#docker.modem.followProgress(
        stream,
        (error: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
          const failed = error ?? events.find((event) => event.error || event.errorDetail);
          if (failed) reject(failed instanceof Error ? failed : new Error(failed.errorDetail?.message ?? failed.error));
          else resolve();
        },
        (event: { stream?: string; status?: string; progress?: string; id?: string }) => {
          const line = (event.stream ?? [event.id, event.status, event.progress].filter(Boolean).join(' ')).trim();
          if (line && onProgress) onProgress(line);
        },
      );
    });
  }

  async networkSubnets(): Promise<string[]> {
    return this.#call('list networks', async () => {
      const networks = await this.#docker.listNetworks();
      return networks.flatMap((network) => (network.IPAM?.Config ?? []).map((config) => config.Subnet ?? '').filter(Boolean));
    });
  }

  async ensureNetwork(name: string, labels: Record<string, string>, choose: (taken: string[]) => string | undefined): Promise<NetworkState> {
    return this.#call(`create network ${name}`, async () => {
      const existing = await this.#network(name);
      if (existing) return this.#adopt(name, labels, existing);
      const subnet = choose(await this.networkSubnets());
      if (!subnet)
        throw new RootletError('network-exhausted', `no free /24 left in ${POOL.cidr} for network ${name} on ${engineName(this.info)}`, {
          hint: 'remove unused engine networks (podman/docker network prune)',
        });
      try {
        await dial(this.#docker, networkCreateRequest(this.info, name, subnet, labels));
      } catch (error) {
        // Another rootlet run created it first: use theirs.
        const raced = await this.#network(name);
        if (raced) return this.#adopt(name, labels, raced);
        throw error;
      }
      return { name, subnet, created: true };
    });
  }

  async #network(name: string): Promise<NetworkInspect | undefined> {
    return unless<NetworkInspect, undefined>(this.#docker.getNetwork(name).inspect(), 404, undefined);
  }

  /** An existing network is used only when it is this cluster's (by label), never a stranger's of the same name. */
  #adopt(name: string, labels: Record<string, string>, network: NetworkInspect): NetworkState {
    const mismatch = Object.entries(labels).find(([key, value]) => network.Labels?.[key] !== value);
    if (mismatch) {
      throw new RootletError(
        'network-taken',
        `network ${name} on ${engineName(this.info)} exists but is not this cluster's (its label ${mismatch[0]} is not ${mismatch[1]})`,
        {
          hint: `remove or rename that network (${this.info.kind} network rm ${name}), or choose another cluster name`,
        },
      );
    }
    return { name, subnet: network.IPAM?.Config?.[0]?.Subnet ?? '', created: false };
  }

  async removeNetwork(name: string, owner?: Record<string, string>): Promise<boolean> {
    return this.#call(`remove network ${name}`, async () => {
      if (owner) {
        const network = await this.#network(name);
        if (!network || Object.entries(owner).some(([key, value]) => network.Labels?.[key] !== value)) return false;
      }
      return unless(
        this.#docker
          .getNetwork(name)
          .remove()
          .then(() => true),
        404,
        false,
      );
    });
  }

  async removeOrphanVolumes(cluster: string): Promise<string[]> {
    return this.#call(`remove the volumes of cluster ${cluster}`, async () => {
      const listed = (await this.#docker.listVolumes({ filters: { label: [`${LABELS.cluster}=${cluster}`] } })) as { Volumes?: Array<{ Name: string }> | null };
      const removed: string[] = [];
      for (const { Name } of listed.Volumes ?? []) {
        // Without force: a volume some container still uses is refused (409), never taken from it.
        const gone = await this.#removeVolume(Name, false).then(
          () => true,
          () => false,
        );
        if (gone) removed.push(Name);
      }
      return removed;
    });
  }

  async createNode(cluster: ClusterSettings, node: NodeSpec): Promise<NodeState> {
    const volume = varVolumeName(node);
    // Both checks at once: they are the whole cost rootlet adds to an engine's create+start.
    const [existing, volumeExists] = await Promise.all([this.inspectNode(node.name), this.#call(`look up volume ${volume}`, () => this.#volumeExists(volume))]);
    if (existing) throw this.#nameConflict(cluster, node, existing.cluster);
    return this.#call(`create node ${node.name}`, async () => {
      // A leftover /var (an earlier node's etcd, kubelet state) must not slip into a new node.
      if (volumeExists) {
        throw new RootletError(
          'volume-exists',
          `volume ${volume} for node ${node.name} already exists on ${engineName(this.info)}, holding an earlier node's /var`,
          {
            hint: `if nothing of that node is worth keeping: ${this.info.kind} volume rm ${volume}`,
          },
        );
      }
      await this.#docker.createVolume(nodeVolumeSpec(cluster, node));
      try {
        const request = nodeContainerSpec(cluster, node, this.info);
        const id =
          request.api === 'libpod'
            ? (
                await dial<{ Id: string }>(this.#docker, {
                  method: 'POST',
                  path: '/v4.0.0/libpod/containers/create',
                  body: request.body,
                })
              ).Id
            : (await this.#docker.createContainer(request.body)).id;
        // Known from the spec at creation: no inspect round trip (create+start is the hot path of `up`).
        return {
          id,
          name: node.name,
          cluster: cluster.name,
          role: node.role,
          hostId: node.hostId,
          status: 'created',
          image: cluster.image,
          ports: node.ports,
          address: node.address,
          exitCode: undefined,
          restarts: 0,
        };
      } catch (error) {
        if (statusOf(error) === 409) {
          // Another run took the name after our check: its container, and so its volume, are not ours to remove.
          const other = await this.inspectNode(node.name);
          throw this.#nameConflict(cluster, node, other?.cluster ?? '');
        }
        // Without force: a volume some container uses is refused, never taken from it.
        await this.#removeVolume(volume, false).catch(() => undefined);
        throw error;
      }
    });
  }

  #nameConflict(cluster: ClusterSettings, node: NodeSpec, owner: string): RootletError {
    const ours = owner === cluster.name;
    return new RootletError(
      ours ? 'node-exists' : 'name-taken',
      ours
        ? `node ${node.name} already exists on ${engineName(this.info)}`
        : `the name ${node.name} is taken by a container that is not a rootlet node of cluster ${cluster.name} on ${engineName(this.info)}`,
      {
        hint: ours
          ? `remove it first if it is not to be kept: ${this.info.kind} rm -f ${node.name}`
          : `rename or remove that container (${this.info.kind} rm -f ${node.name}), or choose another cluster name`,
      },
    );
  }

  async #volumeExists(name: string): Promise<boolean> {
    return unless(
      this.#docker
        .getVolume(name)
        .inspect()
        .then(() => true),
      404,
      false,
    );
  }

  async startNode(name: string): Promise<void> {
    await this.#call(`start node ${name}`, async () => {
      await unless(this.#docker.getContainer(name).start(), 304, undefined);
    });
  }

  async inspectNode(name: string): Promise<NodeState | undefined> {
    return this.#call(`inspect node ${name}`, () => unless(this.#docker.getContainer(name).inspect().then(nodeStateFromInspect), 404, undefined));
  }

  async listNodes(cluster?: string): Promise<NodeState[]> {
    return this.#call('list nodes', async () => {
      const label = cluster === undefined ? LABELS.cluster : `${LABELS.cluster}=${cluster}`;
      const entries = await this.#docker.listContainers({ all: true, filters: { label: [label] } });
      return entries.map(nodeStateFromList).sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  async exec(name: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.#call(`run ${argv[0] ?? 'a command'} in node ${name}`, async () => {
      const exec = await this.#docker.getContainer(name).exec({
        Cmd: [...argv],
        Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
        AttachStdin: options.stdin !== undefined,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      });
      const stream = await exec.start({ hijack: true, stdin: options.stdin !== undefined, abortSignal: options.signal });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      this.#docker.modem.demuxStream(stream, stdout, stderr);
      const collected = Promise.all([text(stdout), text(stderr)]);
      // The abort signal of the request stops only the wait for the upgrade: once hijacked, the stream is ours to end.
      const { signal } = options;
      const streamed = options.stdin !== undefined && typeof options.stdin !== 'string' && !(options.stdin instanceof Uint8Array);
      // With a streamed stdin, a command that exits before reading it all makes the engine reset the connection:
      // that is the command's answer (its exit code below), not the engine failing.
      let streamError: Error | undefined;
      let sourceError: Error | undefined;
      let onAbort: (() => void) | undefined;
      const ended = new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', (error: Error) => {
          if (!streamed) return reject(error);
          streamError = error;
          resolve();
        });
        if (signal) {
          onAbort = () => {
            stream.destroy();
            reject(signal.reason instanceof Error ? signal.reason : Object.assign(new Error('aborted'), { name: 'AbortError' }));
          };
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
      });
      if (options.stdin === undefined) {
        // Nothing to send.
      } else if (!streamed) stream.end(Buffer.from(options.stdin as string | Uint8Array));
      else {
        // A stream (an image archive), with backpressure; pipeline ends the exec's stdin when it ends, and a source
        // that fails (or has failed already) destroys the connection, so the command never waits for more.
        const source = options.stdin as NodeJS.ReadableStream;
        const readable = source as Readable;
        // Failed or closed before it was handed over: nothing will come, so the command gets no stdin at all.
        if (readable.destroyed) sourceError = readable.errored ?? new Error('the input stream was closed before it could be sent');
        // pipeline destroys the source with the connection's own error: that one is not the source failing.
        source.once('error', (error: Error) => {
          if (error !== streamError) sourceError ??= error;
        });
        pipeline(source, stream).catch((error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          streamError ??= failure;
        });
      }
      try {
        await ended;
      } finally {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
      stdout.end();
      stderr.end();
      const [out, err] = await collected;
      let { ExitCode: code, Running: running } = await exec.inspect();
      // After a broken stdin the engine may report the command as running a moment longer: wait up to 2 s for its end.
      for (let tries = 0; streamError && !sourceError && running && tries < 20; tries++) {
        await sleep(100);
        ({ ExitCode: code, Running: running } = await exec.inspect());
      }
      // What was sent could not be read to its end: that is the reason, whatever the command made of the cut.
      if (sourceError) throw sourceError;
      // The stream broke while the command still ran (or never reported an exit): the transfer failed, not the command.
      if (streamError && (running || code === null)) throw streamError;
      return { exitCode: code ?? 1, stdout: out, stderr: err };
    });
  }

  async copyIn(name: string, path: string, content: Uint8Array | string, mode = 0o644): Promise<void> {
    if (/^\/(tmp|run)(\/|$)/.test(path)) {
      throw new RootletError(
        'tmpfs-target',
        `cannot copy into ${path} of node ${name}: /tmp and /run are tmpfs in a node, which Docker's archive API does not write into`,
        {
          hint: 'copy it to a path on the node’s own filesystem (/etc, /kind, /var)',
        },
      );
    }
    const slash = path.lastIndexOf('/');
    const archive = await packArchive([{ name: path.slice(slash + 1), content, mode }]);
    await this.#call(`copy ${path} into node ${name}`, async () => {
      await this.#docker.getContainer(name).putArchive(archive, { path: path.slice(0, slash) || '/' });
    });
  }

  async copyOut(name: string, path: string): Promise<Buffer> {
    return this.#call(`copy ${path} out of node ${name}`, async () => {
      const stream = await this.#docker.getContainer(name).getArchive({ path });
      const file = await firstFile(stream, path.slice(path.lastIndexOf('/') + 1));
      if (!file) throw new RootletError('not-a-file', `${path} in node ${name} is not a regular file`, { hint: 'name a file, not a directory' });
      return file;
    });
  }

  async logs(name: string, tail: number): Promise<string> {
    return this.#call(`read the log of node ${name}`, async () => {
      // Node containers have a TTY, so the log is one raw stream (not multiplexed).
      const log = await this.#docker.getContainer(name).logs({ stdout: true, stderr: true, tail, follow: false });
      return Buffer.from(log).toString('utf8');
    });
  }

  async inspectRaw(name: string): Promise<unknown> {
    return this.#call(`inspect node ${name}`, () => this.#docker.getContainer(name).inspect());
  }

  async archiveOut(name: string, path: string): Promise<NodeJS.ReadableStream> {
    return this.#call(`copy ${path} out of node ${name}`, () => this.#docker.getContainer(name).getArchive({ path }));
  }

  async removeNode(name: string): Promise<void> {
    await this.#call(`remove node ${name}`, async () => {
      // SIGKILL first, as docker rm -f does: Podman's forced remove sends the stop signal and waits, and a node's
      // PID 1 that has not installed its handler yet ignores it (seen: Podman 4.3 left such nodes "stopping").
      await this.#docker
        .getContainer(name)
        .kill({ signal: 'SIGKILL' })
        .catch(() => undefined);
      await unless(this.#docker.getContainer(name).remove({ force: true, v: true }), 404, undefined);
      await this.#removeVolume(varVolumeName({ name }));
    });
  }

  async #removeVolume(name: string, force = true): Promise<void> {
    await unless(this.#docker.getVolume(name).remove({ force }), 404, undefined);
  }
}
