/**
 * `rootlet up`: from a prepared host to a ready cluster, or from a partial cluster to the asked-for one. Each step
 * registers the undo of what it creates; on failure the transcript is saved, then everything this run created is
 * removed unless --retain.
 */
import path from 'node:path';
import { Listr, type ListrTask } from 'listr2';
import { ExitCode, interrupted, RootletError } from '../errors.js';
import type { ClusterOptions } from '../config/cluster-file.js';
import { runDoctor } from '../doctor/run.js';
import { probeEngine } from '../engine/connect.js';
import type { Engine } from '../engine/engine.js';
import { duringStep, engineUnreachable } from '../engine/errors.js';
import { launchNodes } from '../engine/launch.js';
import { defaultNodeImage, defaultNodeImageRecipe, ensureImage } from '../engine/node-image.js';
import { chooseSubnet } from '../engine/subnet.js';
import { LABELS, type Mount, type NodeSpec, type NodeState, type PortMapping } from '../engine/types.js';
import { waitForNode } from '../engine/wait-node.js';
import type { Host } from '../host/host.js';
import { newBootstrapToken } from '../kube/bootstrap-token.js';
import type { KubeClusterSpec, KubeNode } from '../kube/cluster-spec.js';
import { cniPlan, type CniPlan } from '../kube/cni.js';
import { renderInitConfig, renderJoinConfig } from '../kube/kubeadm-config.js';
import { applyKubeadmPatches, kubeadmPatchesFor } from '../kube/kubeadm-patches.js';
import { clusterKubeconfig, parseKubeconfig } from '../kube/kubeconfig.js';
import {
  applyManifest,
  configureKubeletIdRange,
  createJoinToken,
  isInitialized,
  isJoined,
  kubeadmInit,
  kubeadmJoin,
  kubectlGet,
  readAdminKubeconfig,
  readCaCertHash,
  readClusterRecord,
  readNodeFacts,
  removeFromCluster,
  setPublicAddress,
  writeClusterRecord,
  type NodeFacts,
  type StepContext,
} from '../kube/node-steps.js';
import { Transcript } from '../kube/transcript.js';
import { userNamespacedPods, type UserNamespacedPods } from '../kube/user-namespaces.js';
import { UndoStack } from '../undo-stack.js';
import { nodeAddress } from './addresses.js';
import { AUTO_ADDRESS, chooseAdvertiseAddress } from './advertise.js';
import { pickApiServerPort } from './api-port.js';
import { exposedKubeconfigWarning, kubeconfigNotWritten, mergeIntoKubeconfig, kubeconfigTarget } from './kubeconfig-store.js';
import { withClusterLock } from './cluster-lock.js';
import { apiServerUrl, controlPlaneName, contextName, networkName, workerNames } from './names.js';
import { waitForApiServer, waitUntilReady } from './readiness-wait.js';
import { ClusterRecord, clusterRecord } from './record.js';
import { engineOptions, requireRootless, type EngineChoice } from './engine-choice.js';
import { hardNofile } from './host-limits.js';
import { saveLog } from './logs.js';
import { readMembers } from './members.js';
import { commandEcho, listrOptions, type ProgressStyle } from './progress.js';

/** Checks of the cluster's own ports, which `rootlet doctor` alone does not know: their remedies go in up's error. */
const CLUSTER_PORT_CHECKS = ['sysctl.network', 'ports.free'];

/** How long a node may take to boot systemd. */
const BOOT_TIMEOUT_MS = 120_000;

export interface UpRequest {
  host: Host;
  cluster: ClusterOptions;
  engine: EngineChoice;
  skipDoctor: boolean;
  retain: boolean;
  /** Set the kubeconfig's current-context to the cluster (kind does). */
  switchContext: boolean;
  progress: ProgressStyle;
  signal: AbortSignal;
  env: Record<string, string | undefined>;
  /** Doctor checks whose failure does not stop the run (`--ignore-check ID`), on this host and the joining ones. */
  ignoreChecks?: readonly string[];
  /** Addresses of the hosts that will join (the cluster file's hosts): the advertise address is the route's towards them. */
  peers?: readonly string[];
}

export interface UpNode {
  name: string;
  role: 'control-plane' | 'worker';
  /** What this run did to it. */
  action: 'created' | 'kept' | 'started';
}

export interface UpResult {
  cluster: string;
  engine: string;
  image: string;
  kubernetesVersion: string;
  cni: string;
  apiServer: string;
  /** Where nodes on other hosts reach the control plane (`rootlet join`); absent for a one-host cluster. */
  advertiseAddress?: string;
  kubeconfig: string;
  context: string;
  nodes: UpNode[];
  /** Notes for the user: CNI none, experimental CNI, skipped checks. */
  notes: string[];
  userNamespacedPods: { enabled: boolean; ready: boolean; reason: string };
  /** Whether init ran in this invocation (false: the cluster existed). */
  initialized: boolean;
  seconds: number;
  /** Where the time went, for CI logs and the benchmark (ms). */
  timings: UpTimings;
}

export interface UpTimings {
  /** From the process's start until every node this run created had started (undefined: none created). */
  nodesStartedSinceProcessStart: number | undefined;
  /** The nodes' own boot (systemd), from started to booted. */
  nodeBoot: number;
  /** Inside the nodes: kubeadm's and kubectl's own work. */
  kubeTools: number;
  total: number;
}

interface UpContext {
  engine: Engine;
  existing: NodeState[];
  controlPlane: string;
  workers: string[];
  apiPort: number;
  image: string;
  launched: NodeState[];
  facts: NodeFacts;
  spec: KubeClusterSpec;
  userns: UserNamespacedPods;
  cni: CniPlan;
  /** The init token, while this run holds one: local workers join with it. */
  initToken: string | undefined;
  initialized: boolean;
  /** kubeadm init was started in this run: an engine that dies before it finishes leaves a half-done init. */
  initStarted: boolean;
  kubeconfigPath: string;
  notes: string[];
  nodes: UpNode[];
  allStartedAt: number | undefined;
  bootMs: number;
  /** The control plane's address for nodes on other hosts; undefined for a one-host cluster. */
  advertiseAddress: string | undefined;
  /** The cluster is up but the kubeconfig could not be written: up's error, after the task list (nothing is undone). */
  kubeconfigError: RootletError | undefined;
}

function kubeNodes(cluster: ClusterOptions, controlPlane: string, workers: readonly string[]): KubeNode[] {
  const labels = cluster.nodes.labels;
  const withLabels = (node: KubeNode): KubeNode => (Object.keys(labels).length === 0 ? node : { ...node, labels });
  return [withLabels({ name: controlPlane, role: 'control-plane' }), ...workers.map((name) => withLabels({ name, role: 'worker' as const }))];
}

function kubeSpec(cluster: ClusterOptions, context: Pick<UpContext, 'controlPlane' | 'workers' | 'apiPort' | 'facts' | 'advertiseAddress'>): KubeClusterSpec {
  const { networking, kubernetes } = cluster;
  return {
    name: cluster.name,
    kubernetesVersion: context.facts.kubernetesVersion,
    podSubnet: networking.podSubnet,
    serviceSubnet: networking.serviceSubnet,
    apiServer: { hostPort: context.apiPort, ...(context.advertiseAddress === undefined ? {} : { advertiseAddress: context.advertiseAddress }) },
    nodes: kubeNodes(cluster, context.controlPlane, context.workers),
    hostAddresses: [networking.apiServerAddress, ...(context.advertiseAddress === undefined ? [] : [context.advertiseAddress])],
    featureGates: kubernetes.featureGates,
    extraArgs: kubernetes.extraArgs,
    kubeletPort: networking.kubeletPort,
    ...(kubernetes.userNamespacedPods === undefined ? {} : { userNamespacedPods: kubernetes.userNamespacedPods }),
    nodeIdCount: context.facts.idCount,
  };
}

interface Placement {
  address: string;
  hosts: Record<string, string>;
  libModules: boolean;
  nofile: number | undefined;
}

/** The cluster file's nodes.extraPortMappings as the control plane publishes them: on the API server's address unless given. */
function extraPorts(cluster: ClusterOptions): PortMapping[] {
  return cluster.nodes.extraPortMappings.map((mapping) => ({
    hostAddress: mapping.listenAddress ?? cluster.networking.apiServerAddress,
    hostPort: mapping.hostPort ?? mapping.containerPort,
    containerPort: mapping.containerPort,
    protocol: mapping.protocol,
  }));
}

/**
 * The control plane's published ports: the API server on its address (the same port inside the node, so the address it
 * advertises works from the host too); for nodes on other hosts also the API server, kubelet and VXLAN ports on the
 * advertise address; then the cluster file's extra ones. Never 0.0.0.0 unless the file says so, never etcd.
 */
function controlPlanePorts(cluster: ClusterOptions, apiPort: number, advertise: string | undefined): PortMapping[] {
  const { apiServerAddress, kubeletPort, vxlanPort } = cluster.networking;
  const same = (hostAddress: string, port: number, protocol: 'tcp' | 'udp'): PortMapping => ({ hostAddress, hostPort: port, containerPort: port, protocol });
  const api = [same(apiServerAddress, apiPort, 'tcp')];
  if (advertise === undefined) return [...api, ...extraPorts(cluster)];
  const remote = [same(advertise, kubeletPort, 'tcp'), same(advertise, vxlanPort, 'udp')];
  return [...api, ...(advertise === apiServerAddress ? [] : [same(advertise, apiPort, 'tcp')]), ...remote, ...extraPorts(cluster)];
}

/** The cluster file's nodes.extraMounts, on every node of this host. */
function extraMounts(cluster: ClusterOptions): Mount[] {
  return cluster.nodes.extraMounts.map((mount) => ({
    source: mount.hostPath,
    target: mount.containerPath,
    readOnly: mount.readOnly,
    ...(mount.propagation === 'hostToContainer' ? { propagation: 'rslave' as const } : {}),
  }));
}

/** Every extra mount's hostPath exists on the host: an engine would refuse a missing one (Podman) or create it (Docker). */
async function checkMountSources(host: Host, cluster: ClusterOptions): Promise<void> {
  for (const [index, mount] of cluster.nodes.extraMounts.entries()) {
    const where = `nodes.extraMounts[${index}].hostPath ${mount.hostPath}`;
    if (!path.isAbsolute(mount.hostPath))
      throw new RootletError('mount-source-relative', `${where} is not an absolute path`, { exitCode: ExitCode.usage, hint: 'give the full path' });
    const found = await host.stat(mount.hostPath).catch((error: unknown) => {
      // The engine runs as this user: what the user cannot reach, the node cannot either.
      throw new RootletError('mount-source-unreadable', `${where} cannot be reached: ${error instanceof Error ? error.message : String(error)}`, {
        exitCode: ExitCode.usage,
        hint: 'give a path this user can read',
      });
    });
    if (found !== undefined) continue;
    throw new RootletError('mount-source-missing', `${where} does not exist`, {
      exitCode: ExitCode.usage,
      hint: "create it first, or correct the path in the cluster file (a relative one is relative to the file's directory)",
    });
  }
}

function nodeSpec(cluster: ClusterOptions, name: string, role: NodeSpec['role'], ports: PortMapping[], placement: Placement): NodeSpec {
  const { address, hosts, libModules, nofile } = placement;
  const mounts = extraMounts(cluster);
  return {
    name,
    role,
    hostId: 'local',
    address,
    hosts,
    ports: role === 'control-plane' ? ports : [],
    ...(mounts.length === 0 ? {} : { mounts }),
    libModules,
    ...(nofile === undefined ? {} : { nofileLimit: nofile }),
  };
}

/** One up or down of a cluster at a time: a second up waits (up to its --wait), then reconciles what the first made. */
export async function upCluster(request: UpRequest): Promise<UpResult> {
  const { host, env, cluster, signal } = request;
  return withClusterLock(host, env, cluster.name, () => upLocked(request), { command: 'up', timeoutMs: cluster.waitMs, signal });
}

async function upLocked(request: UpRequest): Promise<UpResult> {
  const started = Date.now();
  const { host, cluster, signal } = request;
  const undo = new UndoStack();
  const transcript = new Transcript(commandEcho(request.progress));
  const step = (engine: Engine): StepContext => ({ shell: engine, transcript, signal });
  const controlPlane = controlPlaneName(cluster.name);
  const workers = workerNames(cluster.name, cluster.workers);
  await checkMountSources(host, cluster);

  // Engine first: doctor reuses the probe, and a re-run must know which ports are already the cluster's own.
  const connection = await probeEngine(host, engineOptions(request.engine, request.env));
  const context = {
    controlPlane,
    workers,
    notes: [],
    nodes: [],
    launched: [],
    initToken: undefined,
    initialized: false,
    initStarted: false,
    allStartedAt: undefined,
    bootMs: 0,
  } as unknown as UpContext;

  const tasks: ListrTask<UpContext>[] = [
    {
      title: request.skipDoctor ? 'Host checks skipped (--skip-doctor)' : 'Check this host (rootlet doctor)',
      task: async (ctx, task) => {
        const all = connection.engine ? await connection.engine.listNodes() : [];
        ctx.existing = all.filter((node) => node.cluster === cluster.name);
        const others = all.filter((node) => node.cluster !== cluster.name);
        const existingControlPlane = ctx.existing.find((node) => node.role === 'control-plane');
        // Its certificates and etcd went with the container: no node of the cluster can be joined or kept without it.
        if (!existingControlPlane) {
          const members = await readMembers(host, request.env, cluster.name);
          const left = [...ctx.existing.map((node) => node.name), ...members.map((member) => `${member.node} on ${member.host}`)];
          if (left.length > 0) throw controlPlaneGone(cluster.name, left);
        }
        // The cluster file's extra ports are neither the API server's nor the VXLAN port.
        const extra = extraPorts(cluster);
        const ownPorts = (existingControlPlane?.ports ?? []).filter(
          (port) => !extra.some((other) => other.hostPort === port.hostPort && other.containerPort === port.containerPort && other.protocol === port.protocol),
        );
        const ownPort = ownPorts.find((port) => port.protocol === 'tcp' && port.hostAddress === cluster.networking.apiServerAddress)?.hostPort;
        // An existing control plane keeps the address it was published on (its kubelet port is published only there).
        ctx.advertiseAddress = existingControlPlane
          ? ownPorts.find((port) => port.protocol === 'udp' && port.containerPort === cluster.networking.vxlanPort)?.hostAddress
          : await chooseAdvertiseAddress(host, cluster.networking.advertiseAddress, request.peers ?? []);
        if (request.skipDoctor) {
          ctx.notes.push('host checks were skipped (--skip-doctor): cgroups, sub-ids, sysctls, devices and ports were not checked');
        } else {
          const report = await runDoctor(host, {
            cni: cluster.cni.name,
            probe: connection,
            allowRootful: request.engine.allowRootful,
            // The cluster's own published port is not a conflict on a re-run.
            ports: [
              ...(ownPort === undefined && cluster.networking.apiServerPort !== undefined
                ? [{ port: cluster.networking.apiServerPort, protocol: 'tcp' as const, purpose: 'API server' }]
                : []),
              ...(existingControlPlane === undefined && ctx.advertiseAddress !== undefined
                ? [
                    { port: cluster.networking.kubeletPort, protocol: 'tcp' as const, purpose: 'kubelet', address: ctx.advertiseAddress },
                    { port: cluster.networking.vxlanPort, protocol: 'udp' as const, purpose: 'VXLAN', address: ctx.advertiseAddress },
                  ]
                : []),
              // A port below ip_unprivileged_port_start fails sysctl.network with the setting that allows it.
              ...(existingControlPlane === undefined
                ? extra.map((port) => ({
                    port: port.hostPort,
                    protocol: port.protocol,
                    purpose: 'extra port mapping',
                    address: port.hostAddress,
                  }))
                : []),
            ],
          });
          const failing = report.findings.filter((finding) => finding.status === 'fail' && !(request.ignoreChecks ?? []).includes(finding.id));
          if (failing.length > 0) {
            // The engine alone failing is "engine unreachable or not rootless" (exit 4), not a host to prepare.
            if (failing.every((finding) => finding.id.startsWith('engine.'))) {
              if (!connection.engine) throw engineUnreachable(connection.attempts);
              requireRootless(connection.engine, request.engine);
            }
            throw new RootletError('host-not-ready', `this host is not ready: ${failing.map((finding) => finding.id).join(', ')} failed`, {
              exitCode: ExitCode.hostNotReady,
              details: failing.map(
                (finding) =>
                  `${finding.id}: ${finding.summary}${CLUSTER_PORT_CHECKS.includes(finding.id) && finding.remedy !== '' ? `; fix: ${finding.remedy}` : ''}`,
              ),
              hint: 'run `rootlet doctor` for the remedies (`--fix-script` writes them as a script), or pass --ignore-check ID or --skip-doctor to try anyway',
            });
          }
          task.title = 'Host checks passed';
        }
        if (!connection.engine) throw engineUnreachable(connection.attempts);
        ctx.engine = requireRootless(connection.engine, request.engine);
        const extraTcp = extra.flatMap((port) => (port.protocol === 'tcp' ? [port.hostPort] : []));
        ctx.apiPort = ownPort ?? (await pickApiServerPort(cluster.networking.apiServerAddress, cluster.networking.apiServerPort, others, extraTcp));
        if (ownPort !== undefined && cluster.networking.apiServerPort !== undefined && cluster.networking.apiServerPort !== ownPort)
          throw new RootletError(
            'api-port-changed',
            `cluster ${cluster.name} publishes its API server on port ${ownPort}, not ${cluster.networking.apiServerPort}`,
            {
              exitCode: ExitCode.usage,
              hint: `leave --api-server-port out, or \`rootlet down --name ${cluster.name}\` first`,
            },
          );
      },
    },
    {
      title: 'Node image',
      task: async (ctx, task) => {
        // New nodes of an existing cluster run its control plane's image: one kubelet and kubeadm version per cluster.
        const existingImage = ctx.existing.find((node) => node.role === 'control-plane')?.image;
        if (existingImage !== undefined && cluster.image !== undefined && cluster.image !== existingImage)
          throw new RootletError('image-changed', `cluster ${cluster.name} runs image ${existingImage}, not ${cluster.image}`, {
            exitCode: ExitCode.usage,
            hint: `leave --image out to add nodes of the same image, or \`rootlet down --name ${cluster.name}\` and create it again`,
          });
        ctx.image = cluster.image ?? existingImage ?? defaultNodeImage();
        const recipe = ctx.image === defaultNodeImage() ? await defaultNodeImageRecipe() : undefined;
        const outcome = await ensureImage(ctx.engine, ctx.image, recipe, { signal, onProgress: (line) => (task.output = line) });
        task.title = `Node image ${ctx.image} (${outcome})`;
      },
    },
    {
      title: 'Create and boot the nodes',
      task: async (ctx, task) => {
        const existing = new Map(ctx.existing.map((node) => [node.name, node]));
        const libModules = (await host.stat('/lib/modules').catch(() => undefined))?.type === 'directory';
        const nofile = await hardNofile(host);
        const taken = [cluster.networking.podSubnet, cluster.networking.serviceSubnet];
        const network = await ctx.engine.ensureNetwork(networkName(cluster.name), { [LABELS.cluster]: cluster.name }, (inUse) =>
          chooseSubnet(cluster.name, [...inUse, ...taken]),
        );
        if (network.created) undo.push(`network ${network.name}`, async () => void (await ctx.engine.removeNetwork(network.name)));
        // Every node finds the control plane through its /etc/hosts, at the address it keeps across restarts.
        const hosts = { [controlPlane]: existing.get(controlPlane)?.address ?? nodeAddress(network.subnet, 0) };
        const placement = (index: number): Placement => ({ address: nodeAddress(network.subnet, index), hosts, libModules, nofile });
        const ports = controlPlanePorts(cluster, ctx.apiPort, ctx.advertiseAddress);
        const wanted = [
          nodeSpec(cluster, controlPlane, 'control-plane', ports, placement(0)),
          ...workers.map((name, index) => nodeSpec(cluster, name, 'worker', [], placement(index + 1))),
        ];
        const missing = wanted.filter((node) => !existing.has(node.name));
        // A container's ports and mounts are fixed when it is made: an existing control plane keeps the ones it has.
        const unpublished = extraPorts(cluster).filter(
          (port) => !existing.get(controlPlane)?.ports.some((had) => had.hostPort === port.hostPort && had.protocol === port.protocol),
        );
        if (existing.has(controlPlane) && unpublished.length > 0)
          ctx.notes.push(
            `${controlPlane} was created without ${unpublished.map((port) => `${port.hostPort}/${port.protocol}`).join(', ')}: extra ports and mounts apply to nodes this run creates (rootlet down, then up, makes them anew)`,
          );
        // Nodes of this cluster that are stopped (a reboot without the engine's restart service) are started again.
        for (const node of wanted.filter(
          (wantedNode) => existing.get(wantedNode.name)?.status !== undefined && existing.get(wantedNode.name)?.status !== 'running',
        )) {
          await ctx.engine.startNode(node.name);
          await waitForNode(ctx.engine, node.name, { timeoutMs: BOOT_TIMEOUT_MS, signal, restartsBefore: existing.get(node.name)!.restarts });
          ctx.nodes.push({ name: node.name, role: node.role, action: 'started' });
        }
        for (const node of wanted.filter((wantedNode) => existing.get(wantedNode.name)?.status === 'running'))
          ctx.nodes.push({ name: node.name, role: node.role, action: 'kept' });
        // A worker removed behind rootlet's back leaves its /var volume, which createNode refuses to reuse: in a cluster
        // whose control plane is there it held nothing worth keeping (pods, loaded images), so it goes and the worker is
        // made anew. Volumes still in use are never removed.
        const recreated = missing.filter((node) => node.role === 'worker' && existing.has(controlPlane));
        if (recreated.length > 0) {
          await ctx.engine.removeOrphanVolumes(cluster.name);
          ctx.notes.push(`made ${recreated.map((node) => node.name).join(', ')} anew: its container was gone`);
        }
        if (missing.length > 0) {
          let started = 0;
          const onStarted = () => {
            if (++started === missing.length) ctx.allStartedAt = performance.now();
          };
          ctx.launched = await launchNodes(ctx.engine, { name: cluster.name, image: ctx.image, network: networkName(cluster.name) }, missing, {
            chooseSubnet: () => network.subnet,
            bootTimeoutMs: BOOT_TIMEOUT_MS,
            signal,
            undo,
            retain: request.retain,
            onStarted,
          }).catch((error: unknown) => {
            // The control plane's /var (etcd) outliving its container: that cluster is gone, not to be half-reused.
            if (error instanceof RootletError && error.code === 'volume-exists' && error.message.includes(` for node ${controlPlane} `))
              throw controlPlaneGone(cluster.name, ['its /var volume']);
            throw error;
          });
          ctx.bootMs = performance.now() - ctx.allStartedAt!;
          for (const node of missing) ctx.nodes.push({ name: node.name, role: node.role, action: 'created' });
        }
        const extra = ctx.existing.filter((node) => node.role === 'worker' && !workers.includes(node.name)).map((node) => node.name);
        if (extra.length > 0) ctx.notes.push(`kept ${extra.join(', ')}: more workers than asked for are not removed (rootlet down removes the cluster)`);
        task.title = missing.length === 0 ? 'Nodes are running' : `Created ${missing.map((node) => node.name).join(', ')}`;
      },
    },
    {
      title: 'Initialize the control plane (kubeadm init)',
      task: async (ctx, task) => {
        const [facts, adminConf, recorded] = await Promise.all([
          readNodeFacts(step(ctx.engine), controlPlane),
          isInitialized(step(ctx.engine), controlPlane),
          readClusterRecord(ctx.engine, controlPlane),
        ]);
        const record = ClusterRecord.safeParse(recorded);
        ctx.facts = facts;
        ctx.spec = kubeSpec(cluster, ctx);
        ctx.userns = userNamespacedPods(ctx.spec);
        const range = ctx.userns.kubeletIdRange;
        if (range) {
          // Before any kubelet starts: it reads its range once. Idempotent, so every node gets it on every run.
          const problems = await Promise.all([controlPlane, ...workers].map((node) => configureKubeletIdRange(step(ctx.engine), node, range)));
          const problem = problems.find((reason) => reason !== undefined);
          if (problem !== undefined) ctx.userns = { ...ctx.userns, ready: false, kubeletIdRange: undefined, reason: problem };
        }
        const manifestPath = cluster.cni.manifest;
        ctx.cni = cniPlan({
          cni: cluster.cni.name,
          ...(manifestPath === undefined ? {} : { manifest: { path: manifestPath, text: await readManifest(host, manifestPath) } }),
          podSubnet: cluster.networking.podSubnet,
          ...(cluster.networking.vxlanPort === undefined ? {} : { vxlanPort: cluster.networking.vxlanPort }),
          kubernetesVersion: ctx.facts.kubernetesVersion,
        });
        ctx.notes.push(...ctx.cni.notes);
        // The record is written once init has finished: admin.conf alone may be left by an init that failed later on.
        if (record.success) {
          const changed = changedSettings(record.data, cluster);
          if (changed.length > 0)
            throw new RootletError('cluster-changed', `cluster ${cluster.name} was created with other settings than this run asks for`, {
              exitCode: ExitCode.usage,
              details: changed,
              hint: `run up with the settings (or cluster file) it was created with, or \`rootlet down --name ${cluster.name}\` and create it again`,
            });
          // Nodes that were just started again need a while before their API server answers (its static pod restarts).
          await waitForApiServer(step(ctx.engine), controlPlane, { timeoutMs: cluster.waitMs, signal, onStatus: (line) => (task.output = line) });
          task.title = 'Control plane already initialized (kept)';
          return;
        }
        if (adminConf)
          throw new RootletError('init-unfinished', `kubeadm init did not finish on ${controlPlane} in an earlier run`, {
            hint: `remove the cluster with \`rootlet down --name ${cluster.name}\`, then run up again`,
          });
        ctx.initToken = newBootstrapToken();
        const config = applyKubeadmPatches(
          renderInitConfig(ctx.spec, ctx.spec.nodes[0]!, { bootstrapToken: ctx.initToken }),
          kubeadmPatchesFor('init', cluster.kubernetes.kubeadmConfigPatches),
        );
        ctx.initStarted = true;
        await kubeadmInit(step(ctx.engine), controlPlane, config);
        ctx.initialized = true;
        await writeClusterRecord(step(ctx.engine), controlPlane, clusterRecord(cluster, ctx));
        task.title = `Control plane initialized (Kubernetes ${ctx.facts.kubernetesVersion})`;
      },
    },
    {
      title: 'Install the CNI',
      skip: (ctx) => (ctx.cni.manifest === undefined ? `No CNI (--cni none): the nodes stay NotReady until you install one` : false),
      task: async (ctx, task) => {
        // Before flannel starts: it reads the control plane's public address once (Usernetes PR 374's ordering race).
        if (ctx.advertiseAddress !== undefined && ctx.cni.name === 'flannel')
          await setPublicAddress(step(ctx.engine), controlPlane, controlPlane, ctx.advertiseAddress);
        await applyManifest(step(ctx.engine), controlPlane, ctx.cni.manifest!, `the ${ctx.cni.name} manifest`);
        task.title = `CNI ${ctx.cni.name} applied (${ctx.cni.source === 'file' ? 'from --cni-manifest' : 'rendered by rootlet'})`;
      },
    },
    {
      title: 'Join the workers',
      skip: () => (workers.length === 0 ? 'No workers' : false),
      task: async (ctx, task) => {
        const steps = step(ctx.engine);
        const joined = await Promise.all(workers.map((worker) => isJoined(steps, worker)));
        const pending = workers.filter((_, index) => !joined[index]);
        if (pending.length === 0) {
          task.title = 'Workers already joined';
          return;
        }
        // A worker whose container was removed behind rootlet's back left its Node object: kubeadm join refuses a name
        // that is registered (Ready) already, so the stale one goes first. Not joined here means not that node's.
        const registered = (await kubectlGet(steps, controlPlane, ['nodes'])) as { items?: Array<{ metadata?: { name?: string } }> } | undefined;
        for (const worker of pending.filter((name) => registered?.items?.some((item) => item.metadata?.name === name))) {
          task.output = `taking the old ${worker} out of the cluster`;
          await removeFromCluster(steps, controlPlane, worker);
        }
        const caHash = await readCaCertHash(steps, controlPlane);
        const token = ctx.initToken ?? (await createJoinToken(steps, controlPlane));
        // Concurrently; every join settles (and deletes its config file) before a failure unwinds anything.
        const results = await Promise.allSettled(
          pending.map(async (worker) => {
            const node = ctx.spec.nodes.find((candidate) => candidate.name === worker)!;
            const config = applyKubeadmPatches(
              renderJoinConfig(ctx.spec, node, { bootstrapToken: token, caCertHash: caHash }),
              kubeadmPatchesFor('join', cluster.kubernetes.kubeadmConfigPatches),
            );
            await kubeadmJoin(steps, worker, config);
            task.output = `${worker} joined`;
          }),
        );
        const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failure) throw failure.reason;
        task.title = `Joined ${pending.join(', ')}`;
      },
    },
    {
      title: 'Wait for the cluster to be ready',
      task: async (ctx, task) => {
        // The init token is no longer needed: it expires on its own, but nothing keeps it in memory either.
        ctx.initToken = undefined;
        await waitUntilReady(step(ctx.engine), controlPlane, {
          nodes: [controlPlane, ...workers],
          cniDaemonSets: ctx.cni.daemonSets,
          requireReady: ctx.cni.manifest !== undefined,
          timeoutMs: cluster.waitMs,
          signal,
          onStatus: (line) => (task.output = line),
        });
        task.title = ctx.cni.manifest === undefined ? 'Nodes registered (NotReady until a CNI is installed)' : 'Cluster ready';
      },
    },
    {
      title: 'Kubeconfig',
      task: async (ctx, task) => {
        const admin = parseKubeconfig(await readAdminKubeconfig(step(ctx.engine), controlPlane), `${controlPlane}:/etc/kubernetes/admin.conf`);
        const entry = clusterKubeconfig(admin, {
          clusterName: cluster.name,
          server: apiServerUrl(cluster.networking.apiServerAddress, ctx.apiPort),
        });
        ctx.kubeconfigPath = await kubeconfigTarget(host, request.env);
        try {
          // Ctrl-C while another writer holds the file's lock stops the wait (up to 10 s) too.
          const merged = await mergeIntoKubeconfig(host, ctx.kubeconfigPath, entry, { switchContext: request.switchContext, signal });
          const warning = exposedKubeconfigWarning(merged);
          if (warning !== undefined) ctx.notes.push(warning);
        } catch (error) {
          if (signal.aborted) throw error;
          // A full disk or an unwritable path is no reason to remove a running cluster: up fails after the list instead.
          ctx.kubeconfigError = kubeconfigNotWritten(cluster.name, ctx.kubeconfigPath, error);
          task.skip(`not written to ${ctx.kubeconfigPath}`);
          return;
        }
        task.title = `Kubeconfig: context ${contextName(cluster.name)} in ${ctx.kubeconfigPath}`;
      },
    },
  ];

  try {
    // Once every step has finished the cluster is up: a Ctrl-C that no step saw does not tear it down again.
    // A step that ran on to its end after Ctrl-C (doctor cannot be stopped midway) fails as interrupted, and the next
    // does not start; the last one's end is the cluster's.
    const guarded = tasks.map((entry, index): ListrTask<UpContext> => ({
      ...entry,
      task: async (ctx, task) => {
        if (signal.aborted) throw interrupted();
        await entry.task(ctx, task);
        if (signal.aborted && index < tasks.length - 1) throw interrupted();
      },
    }));
    await new Listr<UpContext>(guarded.map(namingStep), { ...listrOptions(request.progress), ctx: context }).run();
  } catch (thrown) {
    const error = signal.aborted && !(thrown instanceof RootletError && thrown.exitCode === ExitCode.interrupted) ? interrupted(thrown) : thrown;
    throw await failUp(error, { request, undo, transcript, context });
  }
  if (context.kubeconfigError) throw context.kubeconfigError;
  return {
    cluster: cluster.name,
    engine: `${context.engine.info.kind} ${context.engine.info.version}`,
    image: context.image,
    kubernetesVersion: context.facts.kubernetesVersion,
    cni: context.cni.name,
    apiServer: apiServerUrl(cluster.networking.apiServerAddress, context.apiPort),
    ...(context.advertiseAddress === undefined ? {} : { advertiseAddress: context.advertiseAddress }),
    kubeconfig: context.kubeconfigPath,
    context: contextName(cluster.name),
    nodes: context.nodes,
    notes: context.notes,
    userNamespacedPods: { enabled: context.userns.enabled, ready: context.userns.ready, reason: context.userns.reason },
    initialized: context.initialized,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    timings: {
      nodesStartedSinceProcessStart: context.allStartedAt === undefined ? undefined : Math.round(context.allStartedAt),
      nodeBoot: Math.round(context.bootMs),
      kubeTools: transcript.msIn(['kubeadm', 'kubectl']),
      total: Date.now() - started,
    },
  };
}

function controlPlaneGone(cluster: string, left: readonly string[]): RootletError {
  return new RootletError(
    'no-control-plane',
    `the control plane of cluster ${cluster} is gone: its container ${controlPlaneName(cluster)} was removed, and the cluster cannot be repaired without it`,
    {
      details: [`left of it: ${left.join(', ')}`],
      hint: `remove what is left with \`rootlet down --name ${cluster}\`, then \`rootlet up\` creates the cluster anew`,
    },
  );
}

/** The step as given, but an engine dying in it names the step (its title as the step started). */
function namingStep(step: ListrTask<UpContext>): ListrTask<UpContext> {
  const title = String(step.title);
  return {
    ...step,
    task: async (ctx, task) => {
      try {
        await step.task(ctx, task);
      } catch (error) {
        throw duringStep(error, title);
      }
    },
  };
}

async function readManifest(host: Host, file: string): Promise<string> {
  try {
    return await host.readText(file);
  } catch (error) {
    throw new RootletError('cni-manifest', `cannot read the CNI manifest ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      exitCode: ExitCode.usage,
      hint: 'give --cni-manifest a readable file',
    });
  }
}

/** What a re-run asks for that the existing cluster was not created with (each a line for the error's details). */
function changedSettings(record: ClusterRecord, cluster: ClusterOptions): string[] {
  const pairs: Array<[string, string, string]> = [
    ['cni', record.cni, cluster.cni.name],
    ['podSubnet', record.podSubnet, cluster.networking.podSubnet],
    ['serviceSubnet', record.serviceSubnet, cluster.networking.serviceSubnet],
    ['apiServerAddress', record.apiServer.address, cluster.networking.apiServerAddress],
  ];
  const advertise = cluster.networking.advertiseAddress;
  if (advertise !== undefined && advertise !== AUTO_ADDRESS) pairs.push(['advertiseAddress', record.advertiseAddress ?? 'none (one host)', advertise]);
  return pairs.filter(([, was, now]) => was !== now).map(([what, was, now]) => `${what}: created with ${was}, asked for ${now}`);
}

/** Saves the transcript and the nodes' consoles, undoes this run's work unless --retain, and says where the log is. */
async function failUp(
  error: unknown,
  { request, undo, transcript, context }: { request: UpRequest; undo: UndoStack; transcript: Transcript; context: Partial<UpContext> },
): Promise<RootletError> {
  // A log only when something ran in a node: a refused host or a bad flag has nothing to show.
  const logPath =
    transcript.entries.length === 0
      ? undefined
      : await saveLog(request.host, request.env, request.cluster.name, 'up', transcript, context.engine, [
          controlPlaneName(request.cluster.name),
          ...workerNames(request.cluster.name, request.cluster.workers),
        ]).catch(() => undefined);
  const created = undo.size > 0;
  // An engine that stopped answering removes nothing: what this run made is left for the re-run to continue from.
  const engineGone = error instanceof RootletError && error.code === 'engine-gone';
  const leftovers = request.retain || engineGone ? [] : await undo.unwind();
  const known =
    error instanceof RootletError
      ? error
      : new RootletError('internal', `internal error: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
          hint: 'run again with --verbose for the stack trace, and report it',
        });
  const where = logPath ? `log: ${logPath}` : undefined;
  // A re-run continues what this run made, except a kubeadm init the engine's death cut off (it refuses that one).
  const initCut = engineGone && context.initStarted === true && context.initialized !== true;
  const next = initCut
    ? `kubeadm init on ${controlPlaneName(request.cluster.name)} was cut off, which a re-run cannot continue: start the engine service again, then \`rootlet down --name ${request.cluster.name}\` and run up again`
    : known.hint;
  const kept =
    request.retain && created
      ? `kept for inspection (--retain): rootlet down --name ${request.cluster.name} removes it`
      : engineGone && created && !initCut
        ? `what this run created is kept for it (\`rootlet down --name ${request.cluster.name}\` removes it instead)`
        : undefined;
  const notRemoved = leftovers.length > 0 ? `could not remove: ${leftovers.join('; ')}` : undefined;
  const hint = [next, where, kept, notRemoved].filter((part) => part !== undefined).join('; ');
  return new RootletError(known.code, known.message, { exitCode: known.exitCode, hint, cause: known.cause ?? known, details: [...known.details] });
}
