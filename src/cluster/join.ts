/**
 * `rootlet join HOST...`: other hosts become worker nodes, concurrently, each over its own SSH connection and with
 * nothing installed there but a rootless engine and sshd. Per host: connect (host key checked), check it (doctor over
 * SSH), reach its engine through the connection, bring the node image over from this host's engine, create the node,
 * join it with a token made for it alone (15 minutes, deleted afterwards, delivered through the engine's archive API),
 * then set its addresses and flannel's public IP before its CNI pod may start. One host failing leaves the others
 * joined; what the failed host got is removed again unless --retain, and a re-run finishes it.
 */
import { Listr, type ListrTask } from 'listr2';
import { asRootletError, ExitCode, interrupted, RootletError } from '../errors.js';
import { failed, runDoctor } from '../doctor/run.js';
import { probeEngine } from '../engine/connect.js';
import type { Engine } from '../engine/engine.js';
import { engineUnreachable } from '../engine/errors.js';
import { launchNodes } from '../engine/launch.js';
import { chooseSubnet } from '../engine/subnet.js';
import { LABELS, type NodeSpec, type NodeState, type PortMapping } from '../engine/types.js';
import { waitForNode } from '../engine/wait-node.js';
import type { Host } from '../host/host.js';
import type { SshHost } from '../host/ssh-host.js';
import { targetId, type SshTarget } from '../host/ssh-target.js';
import { isLoopback } from '../config/cluster-file.js';
import { REMOTE_NODE_TAINT, UNINITIALIZED_TAINT, type KubeClusterSpec, type KubeNode } from '../kube/cluster-spec.js';
import { renderJoinConfig } from '../kube/kubeadm-config.js';
import { applyKubeadmPatches } from '../kube/kubeadm-patches.js';
import {
  configureKubeletIdRange,
  configureRemoteNode,
  createJoinToken,
  deleteJoinToken,
  isJoined,
  kubeadmJoin,
  kubectlGet,
  readCaCertHash,
  readClusterRecord,
  readNodeFacts,
  removeFromCluster,
  removeJoinConfig,
  type StepContext,
} from '../kube/node-steps.js';
import { Transcript } from '../kube/transcript.js';
import { userNamespacedPods } from '../kube/user-namespaces.js';
import { UndoStack } from '../undo-stack.js';
import { checkOwnAddress, resolveAddress } from './advertise.js';
import type { SshConnect } from './member-hosts.js';
import { nodeAddress } from './addresses.js';
import { hardNofile } from './host-limits.js';
import { saveLog } from './logs.js';
import { readMembers, updateMembers, withMember, type MemberHost } from './members.js';
import { networkName } from './names.js';
import { commandEcho, listrOptions, type ProgressStyle } from './progress.js';
import { NodeWatch, type Taint } from './node-watch.js';
import { ClusterRecord } from './record.js';

const BOOT_TIMEOUT_MS = 120_000;
/** From kubeadm join's end until the kubelet has registered the node. */
const REGISTRATION_TIMEOUT_MS = 60_000;
/** How long taking a failed host's node out of the cluster may take (drain and delete), also after Ctrl-C. */
const UNDO_TIMEOUT_MS = 90_000;
/** The longest node name (a DNS label). */
const MAX_NODE_NAME = 63;

/** One host to join, as the CLI or the cluster file named it, resolved (ssh config) and validated. */
export interface JoinTarget {
  /** As the user wrote it. */
  text: string;
  target: SshTarget;
  identityFiles: string[];
  /** The address the other hosts reach this host's node at, when given (else the address SSH connects to). */
  advertiseAddress?: string | undefined;
  /** More ports of its node published on the host (the cluster file's extraPortMappings). */
  extraPorts?: ReadonlyArray<{ containerPort: number; hostPort?: number | undefined; listenAddress?: string | undefined; protocol: 'tcp' | 'udp' }>;
}

export interface JoinOptions {
  acceptNewHostKeys: boolean;
  skipDoctor: boolean;
  /** Doctor checks whose failure does not stop a host (`--ignore-check ID`). */
  ignoreChecks: readonly string[];
  retain: boolean;
  waitMs: number;
  progress: ProgressStyle;
  signal: AbortSignal;
  env: Record<string, string | undefined>;
  /** Opens the SSH connection (SshHost.connect, loaded by the CLI only when a command needs it). */
  connect: SshConnect;
}

export type HostOutcome = 'joined' | 'kept' | 'failed' | 'skipped';

export interface HostJoinResult {
  /** `user@host[:port]`. */
  host: string;
  outcome: HostOutcome;
  node?: string | undefined;
  address?: string | undefined;
  engine?: string | undefined;
  /** Failed or skipped: why, in one line. */
  reason?: string | undefined;
  error?: ReturnType<RootletError['toJSON']> | undefined;
  seconds: number;
}

export interface JoinResult {
  cluster: string;
  hosts: HostJoinResult[];
  /** Where the log of a failed join is. */
  log?: string | undefined;
  seconds: number;
}

/** Everything every host's join reads from the control plane, gathered once. */
interface ClusterFacts {
  name: string;
  controlPlane: NodeState;
  record: ClusterRecord & { advertiseAddress: string; join: NonNullable<ClusterRecord['join']> };
  caHash: string;
  members: MemberHost[];
}

/** The exit code of a join: 0 when every host joined (or was kept), else the failures' common code, else 1. */
export function joinExitCode(result: JoinResult): number {
  const failures = result.hosts.filter((host) => host.outcome === 'failed' || host.outcome === 'skipped');
  if (failures.length === 0) return ExitCode.ok;
  const codes = new Set(failures.map((host) => host.error?.exitCode ?? ExitCode.failure));
  return codes.size === 1 ? [...codes][0]! : ExitCode.failure;
}

/** A DNS label from a host name: `<cluster>-<hostname>`, lowercase, other characters as '-'. */
export function remoteNodeName(cluster: string, hostname: string, user: string, taken: ReadonlySet<string>): string {
  const label = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const short = label(hostname.split('.')[0] ?? '') || 'host';
  const fit = (name: string) => name.slice(0, MAX_NODE_NAME).replace(/-+$/, '');
  const plain = fit(`${cluster}-${short}`);
  if (!taken.has(plain)) return plain;
  // Two accounts on one machine (or two machines with one name): the user tells them apart.
  const withUser = fit(`${cluster}-${short}-${label(user)}`);
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? withUser : fit(`${withUser.slice(0, MAX_NODE_NAME - 4)}-${n}`);
    if (!taken.has(candidate)) return candidate;
  }
}

async function clusterFacts(
  engine: Engine,
  cluster: string,
  host: Host,
  env: Record<string, string | undefined>,
  transcript: Transcript,
): Promise<ClusterFacts> {
  const nodes = await engine.listNodes(cluster);
  const controlPlane = nodes.find((node) => node.role === 'control-plane');
  if (!controlPlane)
    throw new RootletError('no-cluster', `there is no cluster ${cluster} on this host`, {
      exitCode: ExitCode.usage,
      hint: `create it first: rootlet up --name ${cluster} --advertise-address <this host's address>`,
    });
  if (controlPlane.status !== 'running')
    throw new RootletError('control-plane-down', `the control plane ${controlPlane.name} is ${controlPlane.status}`, {
      hint: `start it again with \`rootlet up --name ${cluster}\``,
    });
  const parsed = ClusterRecord.safeParse(await readClusterRecord(engine, controlPlane.name));
  if (!parsed.success)
    throw new RootletError('cluster-unfinished', `cluster ${cluster} was not set up completely`, { hint: `run \`rootlet up --name ${cluster}\` again first` });
  const record = parsed.data;
  if (record.advertiseAddress === undefined || record.join === undefined)
    throw new RootletError('one-host-cluster', `cluster ${cluster} was created for one host: its control plane is not published where other hosts reach it`, {
      exitCode: ExitCode.usage,
      hint: `create it again for several hosts: rootlet down --name ${cluster}; rootlet up --name ${cluster} --advertise-address <this host's address>`,
    });
  const localWorkers = nodes.filter((node) => node.role === 'worker' && node.hostId === 'local');
  if (localWorkers.length > 0)
    throw new RootletError('local-workers', `cluster ${cluster} has workers on this host (${localWorkers.map((node) => node.name).join(', ')})`, {
      exitCode: ExitCode.usage,
      hint: 'a multi-host cluster runs one node per host (one VXLAN port per host address): create it with workers 0',
    });
  const caHash = await readCaCertHash({ shell: engine, transcript }, controlPlane.name);
  const members = await readMembers(host, env, cluster);
  return { name: cluster, controlPlane, record: record as ClusterFacts['record'], caHash, members };
}

/** The spec the JoinConfiguration is rendered from: what `up` rendered the cluster with, from its record. */
function joinSpec(facts: ClusterFacts, node: KubeNode, idCount: number): KubeClusterSpec {
  const { record } = facts;
  return {
    name: facts.name,
    kubernetesVersion: record.kubernetesVersion,
    podSubnet: record.podSubnet,
    serviceSubnet: record.serviceSubnet,
    apiServer: { hostPort: record.apiServer.port, advertiseAddress: record.advertiseAddress },
    nodes: [{ name: facts.controlPlane.name, role: 'control-plane' }, node],
    kubeletPort: record.join.kubeletPort,
    extraArgs: { kubelet: record.join.kubeletExtraArgs },
    userNamespacedPods: record.userNamespacedPods.enabled,
    nodeIdCount: idCount,
  };
}

interface HostRun {
  target: JoinTarget;
  result: HostJoinResult;
}

/**
 * Joins every target concurrently to the cluster whose control plane runs on `engine` (this host's). Never throws for
 * one host's failure: each host has its outcome; a usage problem with the cluster itself, or Ctrl-C, throws.
 */
export async function joinHosts(local: Host, engine: Engine, cluster: string, targets: readonly JoinTarget[], options: JoinOptions): Promise<JoinResult> {
  const started = Date.now();
  const transcript = new Transcript(commandEcho(options.progress));
  const { signal } = options;
  const facts = await clusterFacts(engine, cluster, local, options.env, transcript);
  const controlPlane = facts.controlPlane.name;
  const cpStep: StepContext = { shell: engine, transcript, signal };
  const watch = new NodeWatch(cpStep, controlPlane);
  // Names in use: the control plane, every member's node (a member joining again keeps its own name), and every node
  // object of the cluster (one left by a host whose join was killed is no name to give out).
  const answer = (await kubectlGet(cpStep, controlPlane, ['nodes'])) as { items?: Array<{ metadata?: { name?: string } }> } | undefined;
  if (answer === undefined)
    throw new RootletError('api-server', `the API server of cluster ${cluster} does not answer on ${controlPlane}`, {
      hint: `\`rootlet status --name ${cluster}\` shows the control plane; \`rootlet up --name ${cluster}\` starts it again`,
    });
  const registered = answer.items ?? [];
  const taken = new Set(
    [controlPlane, ...facts.members.map((member) => member.node), ...registered.map((item) => item.metadata?.name ?? '')].filter((node) => node !== ''),
  );
  const runs: HostRun[] = targets.map((target) => ({
    target,
    result: { host: targetId(target.target), outcome: 'skipped', reason: 'not started', seconds: 0 },
  }));
  // Names are given out in the order the hosts were named, whichever connects first: the same hosts get the same names.
  const turns = runs.map(() => {
    let resolve = () => {};
    const promise = new Promise<void>((done) => (resolve = done));
    return { promise, resolve };
  });

  const hostTask = (run: HostRun, index: number): ListrTask => ({
    title: run.result.host,
    task: async (_, task) => {
      const hostStarted = Date.now();
      const undo = new UndoStack();
      let ssh: SshHost | undefined;
      try {
        task.output = 'connecting';
        ssh = await options.connect(run.target.target, {
          identityFiles: run.target.identityFiles,
          acceptNewHostKeys: options.acceptNewHostKeys,
          signal,
        });
        const id = ssh.id;
        run.result.host = id;
        const outcome = await joinOne(ssh, run, {
          ...options,
          local,
          engine,
          facts,
          cpStep,
          watch,
          transcript,
          undo,
          taken,
          nameTurn: { after: turns[index - 1]?.promise, done: () => turns[index]!.resolve() },
          report: (line) => {
            signal.throwIfAborted();
            task.output = line;
          },
        });
        run.result = { host: id, ...outcome, seconds: (Date.now() - hostStarted) / 1000 };
        task.title = `${id}: ${outcome.outcome === 'kept' ? 'already joined' : 'joined'} as ${outcome.node} (${outcome.address})`;
      } catch (thrown) {
        const lost = signal.aborted ? undefined : ssh?.connectionLost();
        const error = signal.aborted ? interrupted(thrown) : lost ? keptAfterLoss(lost, cluster, ssh!.id) : asRootletError(thrown);
        // Without the connection nothing there can be removed: what the host got is kept whole (its member entry, its
        // node in the cluster), so `down --host` finds it and a re-run finishes it rather than meeting half an undo.
        const leftovers = options.retain || lost ? [] : await undo.unwind();
        const reason = leftovers.length > 0 ? `${error.message} (could not remove: ${leftovers.join('; ')})` : error.message;
        run.result = { host: run.result.host, outcome: 'failed', reason, error: error.toJSON(), seconds: (Date.now() - hostStarted) / 1000 };
        task.title = `${run.result.host}: failed: ${error.message}`;
        throw error;
      } finally {
        turns[index]!.resolve();
        await ssh?.dispose();
      }
    },
  });

  try {
    await new Listr(
      [
        {
          title: `Join ${targets.length} host${targets.length === 1 ? '' : 's'} to cluster ${cluster}`,
          task: (_, task) => task.newListr(runs.map(hostTask), { concurrent: true, exitOnError: false }),
        },
      ],
      { ...listrOptions(options.progress), exitOnError: false },
    ).run();
  } catch {
    // Each host's outcome holds its error.
  }
  if (signal.aborted) throw interrupted();
  const anyFailed = runs.some((run) => run.result.outcome === 'failed');
  const log =
    anyFailed && transcript.entries.length > 0
      ? await saveLog(local, options.env, cluster, 'join', transcript, engine, [controlPlane]).catch(() => undefined)
      : undefined;
  return { cluster, hosts: runs.map((run) => run.result), log, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

/** The lost connection's error, saying what a re-run does and how to remove the host's leftovers instead. */
function keptAfterLoss(lost: RootletError, cluster: string, host: string): RootletError {
  return new RootletError(lost.code, lost.message, {
    exitCode: lost.exitCode,
    hint: `what ${host} got so far is kept: run the same join again to finish it (or \`rootlet down --name ${cluster} --host ${host}\` to remove it); if it keeps happening, check the network and the sshd log there`,
    cause: lost.cause ?? lost,
  });
}

interface JoinContext extends JoinOptions {
  local: Host;
  /** This host's engine, where the control plane runs and the node image comes from. */
  engine: Engine;
  facts: ClusterFacts;
  cpStep: StepContext;
  /** The one poller of the control plane's node list, shared by every host. */
  watch: NodeWatch;
  transcript: Transcript;
  undo: UndoStack;
  taken: Set<string>;
  /** This host names its node after the host before it has (or has failed). */
  nameTurn: { after: Promise<void> | undefined; done: () => void };
  /**
   * Shows the step the host starts; throws once the run is interrupted, so that after Ctrl-C no further step starts
   * (doctor, for one, cannot be stopped midway).
   */
  report: (line: string) => void;
}

interface OneOutcome {
  outcome: 'joined' | 'kept';
  node: string;
  address: string;
  engine: string;
}

async function joinOne(ssh: SshHost, run: HostRun, ctx: JoinContext): Promise<OneOutcome> {
  const { facts, signal, report } = ctx;
  const { record } = facts;
  const cluster = facts.name;

  // The address other hosts reach this one at; it is also where its ports are published.
  const address = run.target.advertiseAddress ?? (await resolveAddress(run.target.target.host));
  if (isLoopback(address))
    throw new RootletError('loopback-host', `${ssh.id} is reached at ${address}, a loopback address the other hosts cannot use`, {
      exitCode: ExitCode.usage,
      hint: "connect to the host's own address, or give it as advertiseAddress in the cluster file's hosts",
    });
  if (address === record.advertiseAddress)
    throw new RootletError('same-host', `${ssh.id} is the control plane's own host (${address})`, {
      exitCode: ExitCode.usage,
      hint: 'join other hosts; on this one the control plane is the node',
    });

  const extraPorts: PortMapping[] = (run.target.extraPorts ?? []).map((mapping) => ({
    hostAddress: mapping.listenAddress ?? address,
    hostPort: mapping.hostPort ?? mapping.containerPort,
    containerPort: mapping.containerPort,
    protocol: mapping.protocol,
  }));
  if (run.target.advertiseAddress === undefined)
    // What this machine resolved the name to must be an address the host has (not a NAT in between, not IPv6 it lacks).
    await checkOwnAddress(ssh, address, `${ssh.id}'s address`).catch((error: unknown) => {
      throw error instanceof RootletError
        ? new RootletError(error.code, error.message, {
            exitCode: error.exitCode,
            hint: `give the address the other hosts reach ${ssh.id} at: advertiseAddress in the cluster file's hosts`,
          })
        : error;
    });
  report('finding its rootless engine');
  const uid = Number((await ssh.run(['id', '-u'])).stdout.trim());
  const connection = await probeEngine(ssh, { env: {}, uid });
  const sameName = connection.engine ? await connection.engine.listNodes(cluster) : [];
  // Only this host's own node of this cluster counts (its labels name the host); anything else of that name there
  // belongs to someone else: a cluster the remote user runs, or another host's node.
  const foreign = sameName.filter((node) => node.hostId !== ssh.id);
  if (foreign.length > 0)
    throw new RootletError(
      'name-clash',
      `the engine of ${ssh.id} already runs ${foreign.map((node) => node.name).join(', ')} of a cluster named ${cluster} that is not this one's`,
      {
        exitCode: ExitCode.usage,
        hint: 'that is the remote user’s own cluster (or another host’s node): give this cluster another name, or remove theirs there first',
      },
    );
  if (!ctx.skipDoctor) {
    report('checking the host (rootlet doctor)');
    const doctor = await runDoctor(ssh, {
      cni: record.cni,
      probe: connection,
      // The node's own ports are no conflict on a re-run.
      ports:
        sameName.length > 0
          ? []
          : [
              { port: record.join.kubeletPort, protocol: 'tcp', purpose: 'kubelet', address },
              { port: record.join.vxlanPort, protocol: 'udp', purpose: 'VXLAN', address },
              ...extraPorts.map((port) => ({ port: port.hostPort, protocol: port.protocol, purpose: 'extra port mapping', address: port.hostAddress })),
            ],
    });
    const failing = doctor.findings.filter((finding) => finding.status === 'fail' && !ctx.ignoreChecks.includes(finding.id));
    if (failed({ ...doctor, findings: failing })) {
      const engineOnly = failing.every((finding) => finding.id.startsWith('engine.'));
      throw new RootletError('host-not-ready', `${ssh.id} is not ready: ${failing.map((finding) => finding.id).join(', ')} failed`, {
        exitCode: engineOnly ? ExitCode.engine : ExitCode.hostNotReady,
        details: failing.map((finding) => `${finding.id}: ${finding.summary}`),
        hint: `run \`rootlet doctor ${ssh.id}\` for the remedies, or --ignore-check ID / --skip-doctor to try anyway`,
      });
    }
  }
  if (!connection.engine) throw engineUnreachable(connection.attempts);
  const remote = connection.engine;
  if (!remote.info.rootless)
    throw new RootletError('engine-rootful', `the engine on ${ssh.id} runs as root`, {
      exitCode: ExitCode.engine,
      hint: 'rootlet joins rootless engines only: start the user’s rootless Podman or Docker there',
    });
  const engineText = `${remote.info.kind} ${remote.info.version}`;
  const remoteStep: StepContext = { shell: remote, transcript: ctx.transcript, signal };

  // The node this host has already, or a new one.
  let node = sameName[0];
  if (sameName.length > 1)
    throw new RootletError('several-nodes', `${ssh.id} has ${sameName.length} nodes of cluster ${cluster}`, {
      hint: `remove them with \`rootlet down --name ${cluster} --host ${ssh.id}\` and join it again`,
    });
  let name: string;
  await ctx.nameTurn.after;
  const recorded = facts.members.find((member) => member.host === ssh.id)?.node;
  if (node && node.name !== recorded && ctx.taken.has(node.name))
    throw new RootletError('name-clash', `${ssh.id} holds a node named ${node.name}, which another host of cluster ${cluster} has`, {
      exitCode: ExitCode.usage,
      hint: `remove it there (\`rootlet down --name ${cluster} --host ${ssh.id}\`) and join again`,
    });
  if (node) {
    name = node.name;
    ctx.taken.add(name);
    ctx.nameTurn.done();
    if (node.status !== 'running') {
      report(`starting ${name} again`);
      await remote.startNode(name);
      await waitForNode(remote, name, { timeoutMs: BOOT_TIMEOUT_MS, signal, restartsBefore: node.restarts });
    }
  } else {
    // A member whose container is gone (removed by hand, or its host reinstalled) joins again under its old name,
    // once the node object its old kubelet left has been taken out of the cluster.
    const previous = recorded;
    const hostname = (await ssh.readText('/proc/sys/kernel/hostname')).trim();
    name = previous ?? remoteNodeName(cluster, hostname, await ssh.user(), ctx.taken);
    ctx.taken.add(name);
    ctx.nameTurn.done();
    if (previous !== undefined) {
      report(`taking the old ${previous} out of the cluster`);
      await removeFromCluster(ctx.cpStep, facts.controlPlane.name, previous);
    }
    await bringImage(ctx, remote, facts.controlPlane.image, report);
    report(`creating node ${name}`);
    const network = await remote.ensureNetwork(networkName(cluster), { [LABELS.cluster]: cluster }, (inUse) =>
      chooseSubnet(cluster, [...inUse, record.podSubnet, record.serviceSubnet]),
    );
    if (network.created) ctx.undo.push(`network ${network.name} on ${ssh.id}`, async () => void (await remote.removeNetwork(network.name)));
    const libModules = (await ssh.stat('/lib/modules').catch(() => undefined))?.type === 'directory';
    const nofile = await hardNofile(ssh);
    const spec: NodeSpec = {
      name,
      role: 'worker',
      hostId: ssh.id,
      address: nodeAddress(network.subnet, 0),
      // The control plane's name resolves to its host's address: the JoinConfiguration's endpoint is <name>:<port>.
      hosts: { [facts.controlPlane.name]: record.advertiseAddress },
      ports: [
        { hostAddress: address, hostPort: record.join.kubeletPort, containerPort: record.join.kubeletPort, protocol: 'tcp' },
        { hostAddress: address, hostPort: record.join.vxlanPort, containerPort: record.join.vxlanPort, protocol: 'udp' },
        ...extraPorts,
      ],
      libModules,
      ...(nofile === undefined ? {} : { nofileLimit: nofile }),
    };
    // Listed from now on, so `down` finds the container even if this run dies (kill -9) or keeps it (--retain).
    const member = { host: ssh.id, address, node: name, engine: `${remote.info.kind} ${remote.info.version}`, identityFiles: run.target.identityFiles };
    await updateMembers(ctx.local, ctx.env, cluster, (hosts) => withMember(hosts, { ...member, joinedAt: '' }));
    if (recorded === undefined)
      ctx.undo.push(`${ssh.id} in the member list`, () =>
        updateMembers(ctx.local, ctx.env, cluster, (hosts) => hosts.filter((other) => other.host !== ssh.id)),
      );
    [node] = await launchNodes(remote, { name: cluster, image: facts.controlPlane.image, network: network.name }, [spec], {
      chooseSubnet: () => network.subnet,
      bootTimeoutMs: BOOT_TIMEOUT_MS,
      signal,
      undo: ctx.undo,
      retain: ctx.retain,
    });
  }

  const kubeNode: KubeNode = {
    name,
    role: 'worker',
    hostAddress: address,
    ...(Object.keys(record.join.nodeLabels).length === 0 ? {} : { labels: record.join.nodeLabels }),
  };
  let outcome: OneOutcome['outcome'] = 'kept';
  // A join whose connection dropped after kubeadm join finished left its configuration behind.
  if (await isJoined(remoteStep, name)) await removeJoinConfig(remoteStep, name);
  else {
    outcome = 'joined';
    const nodeFacts = await readNodeFacts(remoteStep, name);
    if (nodeFacts.kubernetesVersion !== record.kubernetesVersion)
      throw new RootletError('version-skew', `node ${name} runs Kubernetes ${nodeFacts.kubernetesVersion}, the cluster ${record.kubernetesVersion}`, {
        hint: `remove it (\`rootlet down --name ${cluster} --host ${ssh.id}\`) and join again: the new node gets the control plane's image`,
      });
    const spec = joinSpec(facts, kubeNode, nodeFacts.idCount);
    const range = userNamespacedPods(spec).kubeletIdRange;
    if (range) await configureKubeletIdRange(remoteStep, name, range);
    report('joining (kubeadm join)');
    const token = await createJoinToken(ctx.cpStep, facts.controlPlane.name);
    try {
      const config = applyKubeadmPatches(renderJoinConfig(spec, kubeNode, { bootstrapToken: token, caCertHash: facts.caHash }), record.join.patches);
      await kubeadmJoin(remoteStep, name, config);
    } finally {
      await deleteJoinToken(ctx.cpStep, facts.controlPlane.name, token);
    }
    // Registered from here on (not before: a join refused for a name taken meanwhile must not delete the holder's
    // node): a failure later takes it out of the cluster again before its container goes. The undo runs after
    // Ctrl-C too, on its own time limit rather than the aborted signal.
    ctx.undo.push(`node ${name} in the cluster`, () =>
      removeFromCluster({ ...ctx.cpStep, signal: AbortSignal.timeout(UNDO_TIMEOUT_MS) }, facts.controlPlane.name, name),
    );
  }
  const present: Taint[] = await ctx.watch.registered(name, REGISTRATION_TIMEOUT_MS);
  report('setting its addresses (ExternalIP, flannel public IP)');
  await configureRemoteNode(ctx.cpStep, facts.controlPlane.name, name, address, [REMOTE_NODE_TAINT, UNINITIALIZED_TAINT], present);
  if (ctx.waitMs > 0) {
    report('waiting for it to be Ready');
    await ctx.watch.ready(name, ctx.waitMs, record.cni !== 'none');
  }
  await updateMembers(ctx.local, ctx.env, cluster, (hosts) =>
    withMember(hosts, {
      host: ssh.id,
      address,
      node: name,
      engine: engineText,
      identityFiles: run.target.identityFiles,
      joinedAt: hosts.find((member) => member.host === ssh.id && member.node === name)?.joinedAt || new Date().toISOString(),
    }),
  );
  ctx.undo.clear();
  return { outcome, node: name, address, engine: engineText };
}

/**
 * The control plane's image on the remote engine: there already, or streamed from this host's engine into it through
 * the SSH connection (`docker save | docker load` without a file on either side). No registry needed anywhere.
 */
async function bringImage(ctx: JoinContext, remote: Engine, image: string, report: (line: string) => void): Promise<void> {
  if (await remote.hasImage(image)) return;
  report(`copying the node image ${image} from this host's engine`);
  // Progress lines are no steps: after Ctrl-C they stop quietly (the signal aborts the load itself).
  const onProgress = (line: string) => {
    if (!ctx.signal.aborted) report(line);
  };
  await remote.loadImage(await ctx.engine.exportImage(image), { signal: ctx.signal, onProgress });
  if (!(await remote.hasImage(image)))
    throw new RootletError('image-copy', `the node image ${image} is not on the remote engine after loading it`, {
      hint: `load it there yourself (\`docker save ${image} | ssh HOST docker load\`), then join again`,
    });
}
