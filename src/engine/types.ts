/** rootlet's own view of a container engine and its node containers; dockerode's types stay in docker-api.ts. */

export type EngineKind = 'podman' | 'docker';
export type RootlessNetwork = 'slirp4netns' | 'pasta' | 'rootlesskit' | 'host' | 'unknown';

export interface EngineInfo {
  kind: EngineKind;
  version: string;
  rootless: boolean;
  cgroupVersion: 1 | 2;
  /** systemd, cgroupfs, or none (rootless Docker without systemd). */
  cgroupDriver: string;
  /** Controllers the engine can use, where it reports them (Podman >= 4). */
  controllers: string[] | undefined;
  /** How the rootless engine reaches the outside: slirp4netns, pasta, or RootlessKit (Docker). */
  rootlessNetwork: RootlessNetwork;
  /** cni or netavark (Podman), bridge (Docker). */
  networkBackend: string;
  storageDriver: string;
  /** The socket it answered on. */
  socket: string;
}

export type NodeRole = 'control-plane' | 'worker';

export interface PortMapping {
  /** The host address the port binds to: 127.0.0.1 for a single-host cluster, the host's own address otherwise. */
  hostAddress: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface Mount {
  /** An absolute path of the host. */
  source: string;
  target: string;
  readOnly: boolean;
  /** rslave: mounts made under the source later show in the node too; default: private. */
  propagation?: 'rslave';
}

/** What the cluster layer decides about one node; the engine turns it into a container. */
export interface NodeSpec {
  name: string;
  role: NodeRole;
  /** Which host the node runs on: "local" or the remote host's id. */
  hostId: string;
  ports: PortMapping[];
  env?: Record<string, string>;
  mounts?: Mount[];
  /** The host's hard open-files limit, when below what the engine would ask for. */
  nofileLimit?: number;
  /** False when the host has no /lib/modules (a kernel without module support): then nothing is mounted there. */
  libModules?: boolean;
  /**
   * A fixed IPv4 address on the cluster network. Fixed addresses survive restarts (the API server's certificate names
   * the control plane's), and with `hosts` the nodes find each other without the engine's DNS, which Podman's CNI
   * backend lacks unless the dnsname plugin is installed.
   */
  address?: string;
  /** Names the node resolves through its /etc/hosts: name -> address. */
  hosts?: Record<string, string>;
}

export interface ClusterSettings {
  name: string;
  image: string;
  /** The engine network the cluster's nodes share on this host. */
  network: string;
}

export type NodeStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'unknown';

export interface NodeState {
  id: string;
  name: string;
  cluster: string;
  role: NodeRole;
  hostId: string;
  status: NodeStatus;
  image: string;
  /** Published ports as the engine reports them. */
  ports: PortMapping[];
  /** Address on the cluster network. */
  address: string | undefined;
  exitCode: number | undefined;
  /** How often the engine restarted it (restart policy "always"): a node that restarts while booting has died. */
  restarts: number;
}

export interface ExecOptions {
  env?: Record<string, string>;
  /** Sent on stdin: how secrets reach a node, never through argv; a stream is piped through (an image archive). */
  stdin?: string | Uint8Array | NodeJS.ReadableStream;
  signal?: AbortSignal;
}

/** An image in an engine's store. */
export interface ImageInfo {
  /** The engine's image id, without its `sha256:` prefix. */
  id: string;
  /** Its names, as the engine spells them (Podman: localhost/app:1 for a local build). */
  tags: string[];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const LABELS = {
  cluster: 'dev.rootlet.cluster',
  role: 'dev.rootlet.role',
  host: 'dev.rootlet.host',
  node: 'dev.rootlet.node',
} as const;
