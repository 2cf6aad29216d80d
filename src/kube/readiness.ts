/**
 * Whether a new cluster is ready, from what kubectl answers: every expected node registered and Ready, CoreDNS Ready,
 * and the CNI's DaemonSet pods Ready on every node. Pure, so `up` can poll it and tests can feed it kubectl's JSON.
 */
import { z } from 'zod';
import { RootletError } from '../errors.js';
import type { DaemonSetRef } from './cni.js';

// Only the fields rootlet reads; zod drops the rest. Optional wherever the API server may leave a field out.

const Condition = z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() });

const NodeList = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      status: z
        .object({
          conditions: z.array(Condition).optional(),
          nodeInfo: z.object({ kubeletVersion: z.string().optional() }).optional(),
        })
        .optional(),
    }),
  ),
});
type Node = z.infer<typeof NodeList>['items'][number];

const ContainerState = z.object({
  waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).optional(),
  terminated: z.object({ exitCode: z.number(), reason: z.string().optional(), message: z.string().optional() }).optional(),
});

const ContainerStatus = z.object({
  name: z.string(),
  ready: z.boolean(),
  restartCount: z.number().optional(),
  state: ContainerState.optional(),
  lastState: ContainerState.optional(),
});

const Pod = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string(),
    labels: z.record(z.string(), z.string()).optional(),
    ownerReferences: z.array(z.object({ kind: z.string(), name: z.string() })).optional(),
    deletionTimestamp: z.string().optional(),
  }),
  spec: z.object({ nodeName: z.string().optional() }).optional(),
  status: z
    .object({
      phase: z.string().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
      conditions: z.array(Condition).optional(),
      initContainerStatuses: z.array(ContainerStatus).optional(),
      containerStatuses: z.array(ContainerStatus).optional(),
    })
    .optional(),
});
type Pod = z.infer<typeof Pod>;

const PodList = z.object({ items: z.array(Pod) });

const EventList = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ creationTimestamp: z.string().nullish() }).optional(),
      involvedObject: z.object({ kind: z.string().optional(), name: z.string().optional(), namespace: z.string().optional() }),
      type: z.string().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
      count: z.number().nullish(),
      firstTimestamp: z.string().nullish(),
      lastTimestamp: z.string().nullish(),
      eventTime: z.string().nullish(),
      series: z.object({ lastObservedTime: z.string().nullish() }).nullish(),
    }),
  ),
});
type Event = z.infer<typeof EventList>['items'][number];

export interface ReadinessExpectations {
  /** The nodes that must be registered (and Ready, with requireReady). */
  nodes: string[];
  cniDaemonSets: DaemonSetRef[];
  /** False for --cni none: nodes cannot be Ready without a CNI, so only their registration counts. */
  requireReady: boolean;
}

export interface PendingItem {
  kind: 'node' | 'pod' | 'missing-node';
  namespace?: string;
  name: string;
  reason: string;
}

export interface ReadinessResult {
  ready: boolean;
  pending: PendingItem[];
}

function parseList<T>(schema: z.ZodType<T>, json: unknown, command: string): T {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new RootletError('kubectl-output', `\`${command}\` answered something rootlet cannot read: ${where}${issue?.message ?? 'unexpected shape'}`, {
    hint: `run \`${command}\` in the control-plane node to see what the API server answers`,
  });
}

const COREDNS_LABEL = ['k8s-app', 'kube-dns'] as const;

/** Collapses kubelet messages, which can be long and span lines, to one readable line. */
function oneLine(text: string, max = 240): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function join(...parts: (string | undefined)[]): string {
  return parts.filter((part) => part !== undefined && part !== '').join(': ');
}

function podIsReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

/** Pods on their way out, or done, say nothing about whether their replacement will run. */
function isCurrent(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata.deletionTimestamp === undefined && phase !== 'Succeeded' && phase !== 'Failed';
}

/** Why a pod is not Ready, most telling first: a stuck container, then scheduling, then the Ready condition. */
function podReason(pod: Pod): string {
  const status = pod.status ?? {};
  const phase = status.phase ?? 'Pending';
  const containers = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  for (const container of containers) {
    const { waiting, terminated } = container.state ?? {};
    const last = container.lastState?.terminated;
    const restarts = container.restartCount ?? 0;
    const history = restarts > 0 ? ` (${restarts} restart${restarts === 1 ? '' : 's'}${last ? `, last exit ${last.exitCode}` : ''})` : '';
    // A crash loop's own message only repeats the pod's name; how the container last ended says why.
    const detail = waiting?.reason === 'CrashLoopBackOff' ? join(last?.reason, last?.message) : waiting?.message;
    if (waiting?.reason !== undefined && waiting.reason !== 'PodInitializing')
      return oneLine(join(phase, `container ${container.name} ${waiting.reason}${history}`, detail));
    if (terminated && terminated.exitCode !== 0)
      return oneLine(join(phase, `container ${container.name} ${terminated.reason ?? 'terminated'} (exit ${terminated.exitCode})`, terminated.message));
  }
  const unscheduled = status.conditions?.find((condition) => condition.type === 'PodScheduled' && condition.status !== 'True');
  if (unscheduled) return oneLine(join(phase, unscheduled.reason ?? 'not scheduled', unscheduled.message));
  const notReady = status.conditions?.find((condition) => condition.type === 'Ready' && condition.status !== 'True');
  return oneLine(join(phase, status.reason ?? notReady?.reason, status.message ?? notReady?.message) || phase);
}

function podItem(pod: Pod): PendingItem {
  return { kind: 'pod', namespace: pod.metadata.namespace, name: pod.metadata.name, reason: podReason(pod) };
}

function nodeIsReady(node: Node): boolean {
  return node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

/**
 * Each node's Ready and kubelet version, from `kubectl get nodes -o json` (parsed), for `status`. Undefined when the
 * answer is not a node list: a status report says the API server did not answer rather than failing.
 */
export function nodeReadiness(nodes: unknown): Map<string, { ready: boolean; kubeletVersion: string | undefined }> | undefined {
  const parsed = NodeList.safeParse(nodes);
  if (!parsed.success) return undefined;
  return new Map(parsed.data.items.map((node) => [node.metadata.name, { ready: nodeIsReady(node), kubeletVersion: node.status?.nodeInfo?.kubeletVersion }]));
}

/**
 * What still keeps the cluster from being ready, from `kubectl get nodes -o json` and `kubectl get pods -A -o json`
 * (parsed). Nodes first, then CoreDNS, then the CNI, in the order a user would look: a NotReady node usually explains
 * the pods. An answer of the wrong shape is a RootletError.
 */
export function evaluateReadiness(nodesJson: unknown, podsJson: unknown, expected: ReadinessExpectations): ReadinessResult {
  const nodes = parseList(NodeList, nodesJson, 'kubectl get nodes -o json').items;
  const pods = parseList(PodList, podsJson, 'kubectl get pods -A -o json').items;
  const pending: PendingItem[] = [];

  const registered = new Set<string>();
  for (const name of expected.nodes) {
    const node = nodes.find((candidate) => candidate.metadata.name === name);
    if (!node) {
      pending.push({ kind: 'missing-node', name, reason: 'not registered with the API server' });
      continue;
    }
    registered.add(name);
    if (!expected.requireReady) continue;
    if (nodeIsReady(node)) continue;
    const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
    const reason = ready
      ? join(ready.status === 'False' ? undefined : `Ready=${ready.status}`, ready.reason, ready.message) || 'NotReady'
      : 'no Ready condition yet';
    pending.push({ kind: 'node', name, reason: oneLine(reason) });
  }
  // Without a CNI no pod network exists: CoreDNS and CNI pods cannot be Ready, and are not asked to be.
  if (!expected.requireReady) return { ready: pending.length === 0, pending };

  const [labelKey, labelValue] = COREDNS_LABEL;
  const coredns = pods.filter((pod) => pod.metadata.namespace === 'kube-system' && pod.metadata.labels?.[labelKey] === labelValue && isCurrent(pod));
  if (coredns.length === 0) pending.push({ kind: 'pod', namespace: 'kube-system', name: 'coredns', reason: `no pod labelled ${labelKey}=${labelValue} yet` });
  pending.push(...coredns.filter((pod) => !podIsReady(pod)).map(podItem));

  for (const daemonSet of expected.cniDaemonSets) {
    const owned = pods.filter(
      (pod) =>
        pod.metadata.namespace === daemonSet.namespace &&
        isCurrent(pod) &&
        (pod.metadata.ownerReferences ?? []).some((owner) => owner.kind === 'DaemonSet' && owner.name === daemonSet.name),
    );
    const missing = [...registered].filter((node) => !owned.some((pod) => pod.spec?.nodeName === node));
    const where = { kind: 'pod', namespace: daemonSet.namespace, name: daemonSet.name } as const;
    if (owned.length === 0) pending.push({ ...where, reason: `DaemonSet ${daemonSet.name} has no pods yet` });
    else if (missing.length > 0) pending.push({ ...where, reason: `DaemonSet ${daemonSet.name} has no pod on ${missing.join(', ')} yet` });
    pending.push(...owned.filter((pod) => !podIsReady(pod)).map(podItem));
  }
  return { ready: pending.length === 0, pending };
}

function eventTime(event: Event): number {
  const stamp = event.lastTimestamp ?? event.series?.lastObservedTime ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
  const time = stamp ? Date.parse(stamp) : NaN;
  return Number.isNaN(time) ? 0 : time;
}

/** Events about a pending item: a node's, or a pod's and its controller's (a DaemonSet's FailedCreate explains a missing pod). */
function isAbout(event: Event, item: PendingItem): boolean {
  const { kind, name, namespace } = event.involvedObject;
  if (name !== item.name) return false;
  if (item.kind === 'node') return kind === 'Node';
  if (item.kind === 'missing-node') return false;
  return namespace === item.namespace && (kind === 'Pod' || kind === 'DaemonSet' || kind === 'Deployment');
}

function label(item: PendingItem): string {
  return item.kind === 'pod' ? `pod ${item.namespace}/${item.name}` : `node ${item.name}`;
}

function describeEvent(event: Event): string {
  const count = event.count !== undefined && event.count !== null && event.count > 1 ? ` (x${event.count})` : '';
  return oneLine(`${event.type ?? 'Normal'} ${event.reason ?? ''}${count}: ${event.message ?? ''}`, 160);
}

/**
 * One line per pending item (at most `limit`, then how many more), each with its last two events, for the message `up`
 * fails with when the cluster is not ready in time. `events` is `kubectl get events -A -o json`, parsed; an unreadable
 * or missing answer only costs the events, since the timeout is the error to report.
 */
export function describePending(result: ReadinessResult, events: unknown, limit: number): string[] {
  const parsed = events === undefined ? undefined : EventList.safeParse(events);
  const all = parsed?.success ? parsed.data.items : [];
  const shown = Math.max(0, limit);
  const lines = result.pending.slice(0, shown).map((item) => {
    const recent = all
      .filter((event) => isAbout(event, item))
      .sort((a, b) => eventTime(a) - eventTime(b))
      .slice(-2)
      .map(describeEvent);
    return `${label(item)}: ${item.reason}${recent.length === 0 ? '' : ` [events: ${recent.join(' | ')}]`}`;
  });
  if (result.pending.length > shown) lines.push(`and ${result.pending.length - shown} more`);
  return lines;
}
