import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describePending, evaluateReadiness, nodeReadiness, type ReadinessExpectations } from '../../src/kube/readiness.js';
import { thrown } from '../support/thrown.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
}

interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state: object;
  lastState: object;
}

/** The fixtures' shape, loose enough to edit them into each case. */
interface KubeObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    qosClass?: string;
    reason?: string;
    message?: string;
    conditions?: Condition[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

interface KubeList {
  items: KubeObject[];
}

/** kubectl's answers for a two-node flannel cluster that is up, as `kubectl get ... -o json` prints them. */
function fixture(name: string): KubeList {
  return JSON.parse(readFileSync(new URL(`../fixtures/kube/${name}`, import.meta.url), 'utf8')) as KubeList;
}

const EXPECTED: ReadinessExpectations = {
  nodes: ['demo-control-plane', 'demo-worker'],
  cniDaemonSets: [{ namespace: 'kube-flannel', name: 'kube-flannel-ds' }],
  requireReady: true,
};

function cluster() {
  return { nodes: fixture('nodes.ready.json'), pods: fixture('pods.ready.json') };
}

function byName(list: KubeList, name: string): KubeObject & { status: NonNullable<KubeObject['status']> } {
  const found = list.items.find((item) => item.metadata.name === name);
  if (!found?.status) throw new Error(`no ${name} with a status`);
  return found as KubeObject & { status: NonNullable<KubeObject['status']> };
}

function setCondition(object: KubeObject, type: string, condition: Partial<Condition>) {
  const found = object.status?.conditions?.find((candidate) => candidate.type === type);
  if (!found) throw new Error(`no ${type} condition`);
  Object.assign(found, condition);
}

const CNI_NOT_READY = {
  status: 'False',
  reason: 'KubeletNotReady',
  message:
    'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
};

/** The worker's flannel pod after its fifth crash. */
function crashLooping(pods: KubeList) {
  const pod = byName(pods, 'kube-flannel-ds-q9w4m');
  setCondition(pod, 'Ready', { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [kube-flannel]' });
  Object.assign(pod.status.containerStatuses![0]!, {
    ready: false,
    restartCount: 5,
    started: false,
    state: {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: 'back-off 2m40s restarting failed container=kube-flannel pod=kube-flannel-ds-q9w4m_kube-flannel(7a8b9c0d-1e2f-4a3b-9c4d-0000000q9w4m)',
      },
    },
    lastState: {
      terminated: {
        exitCode: 1,
        reason: 'Error',
        startedAt: '2026-09-20T10:05:12Z',
        finishedAt: '2026-09-20T10:05:13Z',
      },
    },
  });
}

/** CoreDNS before any node is Ready: unschedulable, no containers yet. */
function corednsPending(pods: KubeList) {
  for (const name of ['coredns-7c65d6cfc9-4hxlt', 'coredns-7c65d6cfc9-n8r2v']) {
    const pod = byName(pods, name);
    delete pod.spec?.nodeName;
    pod.status = {
      phase: 'Pending',
      qosClass: 'Burstable',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          lastProbeTime: null,
          lastTransitionTime: '2026-09-20T10:01:50Z',
          reason: 'Unschedulable',
          message: '0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.',
        },
      ],
    };
  }
}

describe('evaluateReadiness', () => {
  it('all ready: both nodes, CoreDNS, and a flannel pod on each node', () => {
    const { nodes, pods } = cluster();
    expect(evaluateReadiness(nodes, pods, EXPECTED)).toEqual({ ready: true, pending: [] });
  });

  it('a node NotReady for lack of a CNI, with the kubelet reason and message', () => {
    const { nodes, pods } = cluster();
    setCondition(byName(nodes, 'demo-worker'), 'Ready', CNI_NOT_READY);
    expect(evaluateReadiness(nodes, pods, EXPECTED)).toEqual({
      ready: false,
      pending: [{ kind: 'node', name: 'demo-worker', reason: `KubeletNotReady: ${CNI_NOT_READY.message}` }],
    });
  });

  it('a node whose kubelet stopped posting status', () => {
    const { nodes, pods } = cluster();
    setCondition(byName(nodes, 'demo-worker'), 'Ready', { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(evaluateReadiness(nodes, pods, EXPECTED).pending).toEqual([
      { kind: 'node', name: 'demo-worker', reason: 'Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.' },
    ]);
  });

  it('CoreDNS Pending and unschedulable', () => {
    const { nodes, pods } = cluster();
    corednsPending(pods);
    const reason = 'Pending: Unschedulable: 0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.';
    expect(evaluateReadiness(nodes, pods, EXPECTED)).toEqual({
      ready: false,
      pending: [
        { kind: 'pod', namespace: 'kube-system', name: 'coredns-7c65d6cfc9-4hxlt', reason },
        { kind: 'pod', namespace: 'kube-system', name: 'coredns-7c65d6cfc9-n8r2v', reason },
      ],
    });
  });

  it('no CoreDNS pod at all', () => {
    const { nodes, pods } = cluster();
    pods.items = pods.items.filter((pod) => pod.metadata.labels?.['k8s-app'] !== 'kube-dns');
    expect(evaluateReadiness(nodes, pods, EXPECTED).pending).toEqual([
      { kind: 'pod', namespace: 'kube-system', name: 'coredns', reason: 'no pod labelled k8s-app=kube-dns yet' },
    ]);
  });

  it('flannel in CrashLoopBackOff: restarts and the last exit, not the back-off boilerplate', () => {
    const { nodes, pods } = cluster();
    crashLooping(pods);
    expect(evaluateReadiness(nodes, pods, EXPECTED)).toEqual({
      ready: false,
      pending: [
        {
          kind: 'pod',
          namespace: 'kube-flannel',
          name: 'kube-flannel-ds-q9w4m',
          reason: 'Running: container kube-flannel CrashLoopBackOff (5 restarts, last exit 1): Error',
        },
      ],
    });
  });

  it('an init container that cannot pull its image', () => {
    const { nodes, pods } = cluster();
    const pod = byName(pods, 'kube-flannel-ds-q9w4m');
    pod.status.phase = 'Pending';
    setCondition(pod, 'Ready', { status: 'False', reason: 'ContainersNotReady' });
    pod.status.initContainerStatuses![0]!.state = {
      waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3"' },
    };
    expect(evaluateReadiness(nodes, pods, EXPECTED).pending).toEqual([
      {
        kind: 'pod',
        namespace: 'kube-flannel',
        name: 'kube-flannel-ds-q9w4m',
        reason: 'Pending: container install-cni-plugin ImagePullBackOff: Back-off pulling image "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3"',
      },
    ]);
  });

  it('a running pod whose readiness probe fails', () => {
    const { nodes, pods } = cluster();
    const pod = byName(pods, 'coredns-7c65d6cfc9-n8r2v');
    setCondition(pod, 'Ready', { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [coredns]' });
    pod.status.containerStatuses![0]!.ready = false;
    expect(evaluateReadiness(nodes, pods, EXPECTED).pending).toEqual([
      {
        kind: 'pod',
        namespace: 'kube-system',
        name: 'coredns-7c65d6cfc9-n8r2v',
        reason: 'Running: ContainersNotReady: containers with unready status: [coredns]',
      },
    ]);
  });

  it('a missing node, and no flannel pod asked of it', () => {
    const { nodes, pods } = cluster();
    const expected = { ...EXPECTED, nodes: [...EXPECTED.nodes, 'demo-worker2'] };
    expect(evaluateReadiness(nodes, pods, expected).pending).toEqual([
      { kind: 'missing-node', name: 'demo-worker2', reason: 'not registered with the API server' },
    ]);
  });

  it('a node without a flannel pod, or a DaemonSet without any', () => {
    const { nodes, pods } = cluster();
    pods.items = pods.items.filter((pod) => pod.metadata.name !== 'kube-flannel-ds-q9w4m');
    expect(evaluateReadiness(nodes, pods, EXPECTED).pending).toEqual([
      { kind: 'pod', namespace: 'kube-flannel', name: 'kube-flannel-ds', reason: 'DaemonSet kube-flannel-ds has no pod on demo-worker yet' },
    ]);
    const other = { ...EXPECTED, cniDaemonSets: [{ namespace: 'kube-system', name: 'antrea-agent' }] };
    expect(evaluateReadiness(nodes, pods, other).pending).toEqual([
      { kind: 'pod', namespace: 'kube-system', name: 'antrea-agent', reason: 'DaemonSet antrea-agent has no pods yet' },
    ]);
  });

  it('matches CNI pods by owner and namespace, not by name', () => {
    const { nodes, pods } = cluster();
    const elsewhere = { ...EXPECTED, cniDaemonSets: [{ namespace: 'kube-system', name: 'kube-flannel-ds' }] };
    expect(evaluateReadiness(nodes, pods, elsewhere).pending.map((item) => item.reason)).toEqual(['DaemonSet kube-flannel-ds has no pods yet']);
  });

  it('ignores pods on their way out and finished ones', () => {
    const { nodes, pods } = cluster();
    const old = structuredClone(byName(pods, 'kube-flannel-ds-q9w4m'));
    old.metadata.name = 'kube-flannel-ds-old01';
    old.metadata.deletionTimestamp = '2026-09-20T10:03:00Z';
    setCondition(old, 'Ready', { status: 'False' });
    const evicted = structuredClone(byName(pods, 'coredns-7c65d6cfc9-n8r2v'));
    evicted.metadata.name = 'coredns-7c65d6cfc9-zz9zz';
    evicted.status = { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: ephemeral-storage.' };
    pods.items.push(old, evicted);
    expect(evaluateReadiness(nodes, pods, EXPECTED)).toEqual({ ready: true, pending: [] });
  });

  it('without a CNI, asks only that the nodes register', () => {
    const { nodes, pods } = cluster();
    setCondition(byName(nodes, 'demo-control-plane'), 'Ready', CNI_NOT_READY);
    setCondition(byName(nodes, 'demo-worker'), 'Ready', CNI_NOT_READY);
    corednsPending(pods);
    const none = { nodes: EXPECTED.nodes, cniDaemonSets: [], requireReady: false };
    expect(evaluateReadiness(nodes, pods, none)).toEqual({ ready: true, pending: [] });
    expect(evaluateReadiness(nodes, pods, { ...none, nodes: [...none.nodes, 'demo-worker2'] }).pending).toEqual([
      { kind: 'missing-node', name: 'demo-worker2', reason: 'not registered with the API server' },
    ]);
  });

  it('a node that has not reported any condition yet', () => {
    const { nodes, pods } = cluster();
    const worker: KubeObject = byName(nodes, 'demo-worker');
    delete worker.status;
    expect(evaluateReadiness(nodes, pods, EXPECTED).pending).toEqual([{ kind: 'node', name: 'demo-worker', reason: 'no Ready condition yet' }]);
  });

  it.each([
    ['not JSON of a list', 'error: the server doesn\'t have a resource type "nodes"', 'nodes'],
    ['null', null, 'nodes'],
    ['items not a list', { kind: 'List', items: 'none' }, 'nodes'],
    ['a node without a name', { items: [{ metadata: {} }] }, 'nodes'],
  ])('garbage from kubectl get nodes: %s', (_, answer, command) => {
    const error = thrown(() => evaluateReadiness(answer, cluster().pods, EXPECTED));
    expect(error.code).toBe('kubectl-output');
    expect(error.message).toContain(`kubectl get ${command} -o json`);
    expect(error.message).not.toContain('\n');
    expect(error.hint).toContain('control-plane node');
  });

  it('garbage from kubectl get pods: says where', () => {
    const pods = cluster().pods;
    delete pods.items[2]!.metadata.namespace;
    const error = thrown(() => evaluateReadiness(cluster().nodes, pods, EXPECTED));
    expect(error.message).toMatch(/^`kubectl get pods -A -o json` answered something rootlet cannot read: items\.2\.metadata\.namespace: /);
  });
});

describe('describePending', () => {
  const events = fixture('events.json');

  function notReady() {
    const { nodes, pods } = cluster();
    setCondition(byName(nodes, 'demo-worker'), 'Ready', CNI_NOT_READY);
    crashLooping(pods);
    corednsPending(pods);
    return evaluateReadiness(nodes, pods, { ...EXPECTED, nodes: [...EXPECTED.nodes, 'demo-worker2'] });
  }

  it('one line per pending item, with its last two events by time', () => {
    expect(describePending(notReady(), events, 10)).toEqual([
      `node demo-worker: KubeletNotReady: ${CNI_NOT_READY.message} [events: Normal NodeHasSufficientMemory (x8): Node demo-worker status is now: NodeHasSufficientMemory | Normal RegisteredNode: Node demo-worker event: Registered Node demo-worker in Controller]`,
      'node demo-worker2: not registered with the API server',
      // The series event is the latest, though its eventTime is the oldest; long messages are cut.
      'pod kube-system/coredns-7c65d6cfc9-4hxlt: Pending: Unschedulable: 0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. [events: Warning FailedScheduling: 0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/2 nodes are available: 2 Pre… | Warning FailedScheduling: 0/2 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) had untolerated taint {…]',
      'pod kube-system/coredns-7c65d6cfc9-n8r2v: Pending: Unschedulable: 0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.',
      'pod kube-flannel/kube-flannel-ds-q9w4m: Running: container kube-flannel CrashLoopBackOff (5 restarts, last exit 1): Error [events: Normal Pulled (x6): Container image "ghcr.io/flannel-io/flannel:v0.28.9" already present on machine | Warning BackOff (x24): Back-off restarting failed container kube-flannel in pod kube-flannel-ds-q9w4m_kube-flannel(7a8b9c0d-1e2f-4a3b-9c4d-0000000q9w4m)]',
    ]);
  });

  it('stops at the limit and says how many more', () => {
    const lines = describePending(notReady(), events, 2);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('and 3 more');
  });

  it('without events, or with an unreadable answer, still names every item', () => {
    const plain = describePending(notReady(), undefined, 10);
    expect(plain).toHaveLength(5);
    expect(plain.join('\n')).not.toContain('[events:');
    expect(describePending(notReady(), 'error: timeout', 10)).toEqual(plain);
  });

  it('nothing pending, nothing to say', () => {
    expect(describePending({ ready: true, pending: [] }, events, 5)).toEqual([]);
  });
});

describe('nodeReadiness', () => {
  it("each node's Ready and kubelet version", () => {
    const { nodes } = cluster();
    setCondition(byName(nodes, 'demo-worker'), 'Ready', CNI_NOT_READY);
    expect(nodeReadiness(nodes)).toEqual(
      new Map([
        ['demo-control-plane', { ready: true, kubeletVersion: 'v1.37.0' }],
        ['demo-worker', { ready: false, kubeletVersion: 'v1.37.0' }],
      ]),
    );
  });

  it('undefined for an answer that is not a node list', () => {
    expect(nodeReadiness({ items: [{}] })).toBeUndefined();
    expect(nodeReadiness('garbage')).toBeUndefined();
  });
});
