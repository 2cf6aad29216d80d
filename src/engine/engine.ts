import type { ClusterSettings, EngineInfo, ExecOptions, ExecResult, ImageInfo, NodeSpec, NodeState } from './types.js';

export interface ProgressOptions {
  signal?: AbortSignal;
  /** One line per progress event (pull layers, build steps). */
  onProgress?: (line: string) => void;
}

export interface NetworkState {
  name: string;
  subnet: string;
  created: boolean;
}

/**
 * One rootless Podman or Docker, through its Docker-compatible API. Speaks rootlet's types only;
 * every Podman/Docker difference is decided in nodeContainerSpec or in the one adapter.
 */
export interface Engine {
  readonly info: EngineInfo;
  hasImage(ref: string): Promise<boolean>;
  /** The image's id and names; undefined when the engine has no such image. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  pullImage(ref: string, options?: ProgressOptions): Promise<void>;
  /** Builds `tag` from a tar build context (Dockerfile at its root). */
  buildImage(context: Uint8Array, tag: string, options?: ProgressOptions): Promise<void>;
  /** The image as a docker-archive tar stream (`docker save`), for another engine to load. */
  exportImage(ref: string): Promise<NodeJS.ReadableStream>;
  /** Loads a docker-archive tar stream (`docker load`), which may come straight from another engine's exportImage. */
  loadImage(archive: NodeJS.ReadableStream, options?: ProgressOptions): Promise<void>;
  /** Subnets of every network the engine has. */
  networkSubnets(): Promise<string[]>;
  /** The named network, created with a subnet from `choose` (given the subnets in use) when missing. */
  ensureNetwork(name: string, labels: Record<string, string>, choose: (taken: string[]) => string | undefined): Promise<NetworkState>;
  /**
   * Removes the named network; with `owner`, only when it carries those labels (a stranger's network of the same
   * name is left alone). False when it was not removed because it is not there or not the owner's.
   */
  removeNetwork(name: string, owner?: Record<string, string>): Promise<boolean>;
  /** Removes the node volumes labelled with this cluster that no container uses (left by a container removed by hand). */
  removeOrphanVolumes(cluster: string): Promise<string[]>;
  /** Creates the node's /var volume and container; a name taken by another container is an error. */
  createNode(cluster: ClusterSettings, node: NodeSpec): Promise<NodeState>;
  startNode(name: string): Promise<void>;
  inspectNode(name: string): Promise<NodeState | undefined>;
  /** Nodes by label: of one cluster, or of every rootlet cluster. */
  listNodes(cluster?: string): Promise<NodeState[]>;
  exec(name: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Writes one file into the node. Not under /tmp or /run: Docker's archive API does not write into tmpfs. */
  copyIn(name: string, path: string, content: Uint8Array | string, mode?: number): Promise<void>;
  copyOut(name: string, path: string): Promise<Buffer>;
  /** The last lines of the node's console. */
  logs(name: string, tail: number): Promise<string>;
  /** The engine's own inspect document of a node, as `podman inspect` / `docker inspect` print it. */
  inspectRaw(name: string): Promise<unknown>;
  /** A tar stream of a directory (or file) in the node, as the engine's archive API gives it. */
  archiveOut(name: string, path: string): Promise<NodeJS.ReadableStream>;
  /** Removes the node container and its volume; what is already gone counts as removed. */
  removeNode(name: string): Promise<void>;
}
