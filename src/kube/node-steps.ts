/**
 * The steps rootlet runs inside its nodes: kubeadm init and join, tokens, the CNI, the readiness queries and the
 * admin kubeconfig. Secrets reach a node only as files through the engine's archive API (deleted after use) or on
 * stdin, and come back only on stdout: never in an argv, on the host or in the node.
 */
import { ExitCode, interrupted, isAbort, RootletError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { ExecOptions, ExecResult } from '../engine/types.js';
import { BOOTSTRAP_TOKEN_PATTERN, caCertHash } from './bootstrap-token.js';
import { redact, type Transcript } from './transcript.js';

/** The part of an engine the steps use: run and copy inside a node. */
export type NodeShell = Pick<Engine, 'exec' | 'copyIn' | 'copyOut'>;

/** Where configurations go in the node: /kind exists in kindest/node, and it is not a tmpfs (Docker's archive API skips those). */
export const INIT_CONFIG_PATH = '/kind/rootlet-init.yaml';
export const JOIN_CONFIG_PATH = '/kind/rootlet-join.yaml';
/** The node's kubeadm configuration with its token redacted, kept for `rootlet logs`. */
export const KUBEADM_CONFIG_COPY_PATH = '/kind/rootlet-kubeadm.yaml';
/** What rootlet remembers about a cluster, in its control-plane node's persistent filesystem; no secrets. */
export const CLUSTER_RECORD_PATH = '/kind/rootlet-cluster.json';
export const ADMIN_CONF_PATH = '/etc/kubernetes/admin.conf';
const KUBELET_CONF_PATH = '/etc/kubernetes/kubelet.conf';
const CA_CERT_PATH = '/etc/kubernetes/pki/ca.crt';
/** kind's node images carry the Kubernetes version here. */
const VERSION_PATH = '/kind/version';

/** The account whose sub-ids the kubelet reads (with getsubids) for the id ranges of pods with hostUsers: false. */
const KUBELET_ACCOUNT = 'kubelet';

/**
 * Gives the kubelet its pod id range inside the node: a `kubelet` account with that range in /etc/subuid and
 * /etc/subgid, read back with getsubids as the kubelet reads it. Without it the kubelet picks ranges from 65536 up to
 * 2^32, outside a rootless node's uid_map, and every pod with hostUsers: false fails at sandbox creation (containerd
 * #13074). Returns why the range is not in place, or undefined when it is.
 */
export async function configureKubeletIdRange(ctx: StepContext, node: string, range: { first: number; count: number }): Promise<string | undefined> {
  const line = `${KUBELET_ACCOUNT}:${range.first}:${range.count}\n`;
  await Promise.all([ctx.shell.copyIn(node, '/etc/subuid', line, 0o644), ctx.shell.copyIn(node, '/etc/subgid', line, 0o644)]);
  // A node image without the tool answers with an exec error rather than an exit code, depending on the engine.
  const missing = (error: unknown): ExecResult => ({
    exitCode: 127,
    stdout: '',
    stderr: `not found: ${error instanceof Error ? error.message : String(error)}`,
  });
  const added = await run(ctx, node, ['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', KUBELET_ACCOUNT]).catch(missing);
  // 9: the account exists already (a re-run).
  if (added.exitCode !== 0 && added.exitCode !== 9) return `the node cannot add a kubelet account: ${lastLines(added)}`;
  const expected = `0: ${KUBELET_ACCOUNT} ${range.first} ${range.count}`;
  for (const flag of [[], ['-g']]) {
    const answer = await run(ctx, node, ['getsubids', ...flag, KUBELET_ACCOUNT]).catch(missing);
    // Engines differ: an exit code of 126 or 127, the runtime's "executable file not found" on either stream.
    if (answer.exitCode === 126 || answer.exitCode === 127 || /not found/i.test(`${answer.stdout}${answer.stderr}`))
      return 'the node image has no getsubids (Debian package uidmap), which the kubelet reads its range with';
    if (answer.stdout.trim() !== expected)
      return `getsubids ${[...flag, KUBELET_ACCOUNT].join(' ')} in the node answers "${answer.stdout.trim()}", not "${expected}"`;
  }
  return undefined;
}

/** A join token made for one `up` or `join`: minutes, not kubeadm's default day. */
export const JOIN_TOKEN_TTL = '15m';

export interface StepContext {
  shell: NodeShell;
  transcript: Transcript;
  signal?: AbortSignal | undefined;
}

function lastLines(result: ExecResult, count = 3): string {
  const text = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  // Error messages reach stderr and --json: kubeadm quotes values it rejects, a token among them.
  return redact(text.slice(-count).join(' | ')) || `exit code ${result.exitCode}`;
}

/** Runs argv in the node and records it; `quiet` keeps stdout (a secret) out of the transcript. */
async function run(ctx: StepContext, node: string, argv: readonly string[], options: ExecOptions & { quiet?: boolean } = {}): Promise<ExecResult> {
  const { quiet, ...execOptions } = options;
  const started = performance.now();
  try {
    const result = await ctx.shell.exec(node, argv, { ...execOptions, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    ctx.transcript.record(node, argv, result.exitCode, `${quiet ? '' : result.stdout}${result.stderr}`, Math.round(performance.now() - started));
    return result;
  } catch (error) {
    if (isAbort(error) || ctx.signal?.aborted) throw interrupted(error);
    throw error;
  }
}

async function fileExists(ctx: StepContext, node: string, path: string): Promise<boolean> {
  return (await run(ctx, node, ['test', '-f', path])).exitCode === 0;
}

/** How long deleting a secret file may take; it runs even after the command was interrupted. */
const CLEANUP_TIMEOUT_MS = 15_000;

/**
 * A cleanup command in the node that runs also after Ctrl-C: the command's signal is not used, a timeout bounds it
 * instead. A failure is noted in the transcript, not thrown: cleanup never hides the error that led to it.
 */
async function cleanup(ctx: StepContext, node: string, argv: readonly string[], okCodes: readonly number[], what: string): Promise<void> {
  const result = await ctx.shell.exec(node, argv, { signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) }).catch((error: unknown) => error as Error);
  if (result instanceof Error || !okCodes.includes(result.exitCode))
    ctx.transcript.note(node, `could not ${what}: ${result instanceof Error ? result.message : lastLines(result)}`);
  else ctx.transcript.record(node, argv, result.exitCode, '');
}

async function removeFile(ctx: StepContext, node: string, path: string): Promise<void> {
  await cleanup(ctx, node, ['rm', '-f', path], [0], `delete ${path}`);
}

/**
 * Removes a join configuration a join cut short may have left (its token is deleted already, but the file has no
 * business there): a re-run that finds the node joined calls it.
 */
export async function removeJoinConfig(ctx: StepContext, node: string): Promise<void> {
  await removeFile(ctx, node, JOIN_CONFIG_PATH);
}

export interface NodeFacts {
  kubernetesVersion: string;
  /** How many ids the node's user namespace maps (the sum of its uid_map's counts). */
  idCount: number;
}

/** What the renderers need to know about the node image and the node's user namespace. */
export async function readNodeFacts(ctx: StepContext, node: string): Promise<NodeFacts> {
  const [version, uidMap] = await Promise.all([run(ctx, node, ['cat', VERSION_PATH]), run(ctx, node, ['cat', '/proc/self/uid_map'])]);
  const kubernetesVersion = version.stdout.trim();
  if (version.exitCode !== 0 || kubernetesVersion === '')
    throw new RootletError('node-image', `node ${node} has no ${VERSION_PATH}: its image is not a kind-style node image`, {
      exitCode: ExitCode.usage,
      hint: 'use rootlet’s default node image, or a kindest/node image (--image)',
    });
  const idCount = uidMap.stdout
    .split('\n')
    .map((line) => Number(line.trim().split(/\s+/)[2]))
    .filter((count) => Number.isFinite(count))
    .reduce((sum, count) => sum + count, 0);
  // flannel takes the MTU from the node's interface itself (its Backend MTU is only an override).
  return { kubernetesVersion, idCount };
}

export async function isInitialized(ctx: StepContext, controlPlane: string): Promise<boolean> {
  return fileExists(ctx, controlPlane, ADMIN_CONF_PATH);
}

export async function isJoined(ctx: StepContext, worker: string): Promise<boolean> {
  return fileExists(ctx, worker, KUBELET_CONF_PATH);
}

/**
 * Copies a configuration holding a secret in (owner-only), runs kubeadm on it, and deletes it whatever happened.
 * Interrupted, the kubeadm still running in the node (the engine only stops waiting for it) is stopped first.
 */
async function withConfigFile<T>(ctx: StepContext, node: string, path: string, config: string, body: () => Promise<T>): Promise<T> {
  await Promise.all([ctx.shell.copyIn(node, path, config, 0o600), ctx.shell.copyIn(node, KUBEADM_CONFIG_COPY_PATH, redact(config), 0o600)]);
  try {
    return await body();
  } finally {
    if (ctx.signal?.aborted) await stopKubeadm(ctx, node, path);
    await removeFile(ctx, node, path);
  }
}

async function stopKubeadm(ctx: StepContext, node: string, config: string): Promise<void> {
  // The pattern names this very config file, so nothing else in the node matches; no alternation, which BRE lacks.
  // pkill: 0 stopped, 1 none left (kubeadm had finished).
  await cleanup(ctx, node, ['pkill', '-f', `kubeadm [a-z]* --config ${config}`], [0, 1], 'stop kubeadm');
}

/** `kubeadm init` with the rendered configuration; --skip-token-print keeps the token out of its output. */
export async function kubeadmInit(ctx: StepContext, controlPlane: string, config: string): Promise<void> {
  const result = await withConfigFile(ctx, controlPlane, INIT_CONFIG_PATH, config, () =>
    run(ctx, controlPlane, ['kubeadm', 'init', '--config', INIT_CONFIG_PATH, '--skip-token-print', '--v=1']),
  );
  if (result.exitCode !== 0)
    throw new RootletError('kubeadm-init', `kubeadm init failed on ${controlPlane}: ${lastLines(result)}`, {
      hint: 'the log named below has kubeadm’s whole output; `rootlet up --retain` keeps the node to look inside',
    });
}

/** A fresh join token from the control plane, read from stdout (never logged). */
export async function createJoinToken(ctx: StepContext, controlPlane: string): Promise<string> {
  const result = await run(ctx, controlPlane, ['kubeadm', 'token', 'create', '--ttl', JOIN_TOKEN_TTL, '--description', 'rootlet: one join'], {
    quiet: true,
  });
  const token = result.stdout.trim();
  if (result.exitCode !== 0 || !BOOTSTRAP_TOKEN_PATTERN.test(token))
    throw new RootletError(
      'join-token',
      `kubeadm token create failed on ${controlPlane}: ${result.exitCode === 0 ? 'no token in its answer' : lastLines(result)}`,
      {
        hint: 'is the API server up? `rootlet status` shows the control plane',
      },
    );
  return token;
}

/** The discovery pin for joins: the hash of the cluster CA's public key, computed here, not trusted from the node. */
export async function readCaCertHash(ctx: StepContext, controlPlane: string): Promise<string> {
  const pem = await ctx.shell.copyOut(controlPlane, CA_CERT_PATH);
  return caCertHash(pem.toString('utf8'));
}

export async function kubeadmJoin(ctx: StepContext, worker: string, config: string): Promise<void> {
  const result = await withConfigFile(ctx, worker, JOIN_CONFIG_PATH, config, () =>
    run(ctx, worker, ['kubeadm', 'join', '--config', JOIN_CONFIG_PATH, '--v=1']),
  );
  if (result.exitCode !== 0)
    throw new RootletError('kubeadm-join', `kubeadm join failed on ${worker}: ${lastLines(result)}`, {
      hint: 'the log named below has kubeadm’s whole output; re-running `rootlet up` retries the join',
    });
}

/** `kubectl apply -f -` on the control plane, the manifest on stdin. */
export async function applyManifest(ctx: StepContext, controlPlane: string, manifest: string, what: string): Promise<void> {
  const result = await run(ctx, controlPlane, ['kubectl', 'apply', '-f', '-'], { stdin: manifest });
  if (result.exitCode !== 0)
    throw new RootletError('kubectl-apply', `applying ${what} failed on ${controlPlane}: ${lastLines(result)}`, {
      hint: 'check the manifest (--cni-manifest) or the API server (`rootlet status`)',
    });
}

/** `kubectl get RESOURCE -o json` on the control plane, parsed; undefined when kubectl fails (an API server still starting). */
export async function kubectlGet(ctx: StepContext, controlPlane: string, args: readonly string[]): Promise<unknown> {
  const result = await run(ctx, controlPlane, ['kubectl', 'get', ...args, '-o', 'json'], { quiet: true });
  if (result.exitCode !== 0) return undefined;
  try {
    return JSON.parse(result.stdout) as unknown;
  } catch {
    return undefined;
  }
}

export async function readAdminKubeconfig(ctx: StepContext, controlPlane: string): Promise<string> {
  return (await ctx.shell.copyOut(controlPlane, ADMIN_CONF_PATH)).toString('utf8');
}

export async function writeClusterRecord(ctx: StepContext, controlPlane: string, record: object): Promise<void> {
  await ctx.shell.copyIn(controlPlane, CLUSTER_RECORD_PATH, `${JSON.stringify(record, null, 2)}\n`, 0o644);
}

export async function readClusterRecord(shell: NodeShell, controlPlane: string): Promise<unknown> {
  try {
    return JSON.parse((await shell.copyOut(controlPlane, CLUSTER_RECORD_PATH)).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** flannel reads a node's VTEP (public) address from this annotation, before it starts on the node. */
export const FLANNEL_PUBLIC_IP_ANNOTATION = 'flannel.alpha.coreos.com/public-ip-overwrite';

interface NodeObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { taints?: Array<{ key?: string; effect?: string }> };
}

async function nodeObject(ctx: StepContext, controlPlane: string, node: string): Promise<NodeObject | undefined> {
  const list = (await kubectlGet(ctx, controlPlane, ['nodes'])) as { items?: NodeObject[] } | undefined;
  return list?.items?.find((item) => item.metadata?.name === node);
}

async function kubectl(ctx: StepContext, controlPlane: string, argv: readonly string[], what: string): Promise<void> {
  const result = await run(ctx, controlPlane, ['kubectl', ...argv]);
  if (result.exitCode !== 0)
    throw new RootletError('kubectl', `${what} failed on ${controlPlane}: ${lastLines(result)}`, {
      hint: 'is the API server up? `rootlet status` shows the control plane; re-running the command retries',
    });
}

/** Points flannel at the node's host address (what other hosts send VXLAN to); idempotent. */
export async function setPublicAddress(ctx: StepContext, controlPlane: string, node: string, address: string): Promise<void> {
  await kubectl(ctx, controlPlane, ['annotate', 'node', node, `${FLANNEL_PUBLIC_IP_ANNOTATION}=${address}`, '--overwrite'], `annotating node ${node}`);
}

/**
 * What Usernetes' sync-external-ip.sh does by hand after every join, for a node on another host: its ExternalIP is its
 * host's address (where the API server reaches its kubelet), flannel's public IP too, and then the taints it registered
 * with are removed, so its CNI pod starts only now. Idempotent: a re-run finds the taints gone.
 */
export async function configureRemoteNode(
  ctx: StepContext,
  controlPlane: string,
  node: string,
  address: string,
  taints: ReadonlyArray<{ key: string; effect: string }>,
  /** The node's taints as last seen (at its registration); those of `taints` among them are removed. */
  present: ReadonlyArray<{ key: string; effect: string }>,
): Promise<void> {
  // A merge patch replaces the whole list, as Usernetes' does; under cloud-provider=external the kubelet leaves it alone.
  const addresses = {
    status: {
      addresses: [
        { type: 'ExternalIP', address },
        { type: 'Hostname', address: node },
      ],
    },
  };
  // Independent of each other; both before the taints go.
  await Promise.all([
    setPublicAddress(ctx, controlPlane, node, address),
    kubectl(
      ctx,
      controlPlane,
      ['patch', 'node', node, '--subresource=status', '--type=merge', '-p', JSON.stringify(addresses)],
      `setting the addresses of node ${node}`,
    ),
  ]);
  const removable = taints.filter((taint) => present.some((other) => other.key === taint.key && other.effect === taint.effect));
  if (removable.length > 0)
    await kubectl(ctx, controlPlane, ['taint', 'node', node, ...removable.map((taint) => `${taint.key}:${taint.effect}-`)], `untainting node ${node}`);
}

/** Deletes a join token once its join is over (its id alone is no secret); it would expire on its own anyway. */
export async function deleteJoinToken(ctx: StepContext, controlPlane: string, token: string): Promise<void> {
  await cleanup(ctx, controlPlane, ['kubeadm', 'token', 'delete', token.split('.')[0]!], [0], 'delete the join token');
}

/** Takes a node out of the cluster: drained (DaemonSets stay), then deleted; a node that is not there is gone already. */
export async function removeFromCluster(ctx: StepContext, controlPlane: string, node: string): Promise<void> {
  if ((await nodeObject(ctx, controlPlane, node)) === undefined) return;
  // A node whose host is gone never confirms its pods' deletion: the drain times out, and the node is deleted anyway
  // (their controllers place the pods elsewhere), as for a dead machine.
  const drained = await kubectl(
    ctx,
    controlPlane,
    ['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=60s'],
    `draining node ${node}`,
  ).then(
    () => true,
    () => false,
  );
  if (!drained) ctx.transcript.note(controlPlane, `draining ${node} did not finish (its host may be down): deleting it anyway`);
  await kubectl(ctx, controlPlane, ['delete', 'node', node, '--ignore-not-found'], `deleting node ${node}`);
}
