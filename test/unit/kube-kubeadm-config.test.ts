import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KubeClusterSpec, KubeNode } from '../../src/kube/cluster-spec.js';
import { BOOTSTRAP_TOKEN_TTL, renderInitConfig, renderJoinConfig, type JoinSecrets } from '../../src/kube/kubeadm-config.js';
import type { ClusterConfiguration, InitConfiguration, JoinConfiguration, KubeletConfiguration, KubeProxyConfiguration } from '../../src/kube/kubeadm-types.js';
import { thrown } from '../support/thrown.js';

/** Fixed secrets: golden files must not change from run to run, so nothing is generated here. */
const TOKEN = 'q7x2mb.4k9vz0c1t8a5w3re';
const CA_HASH = 'sha256:2f8e0c3a9b7d41e65f0a1c2b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a';
const JOIN: JoinSecrets = { bootstrapToken: TOKEN, caCertHash: CA_HASH };

/** What `rootlet up` with no flags and no file asks for. */
const SINGLE: KubeClusterSpec = {
  name: 'demo',
  kubernetesVersion: 'v1.37.0',
  nodes: [{ name: 'demo-control-plane', role: 'control-plane' }],
};

/** A lab: one control plane reached from other hosts, two workers, on a version where user-namespaced pods are a switch. */
const LAB: KubeClusterSpec = {
  name: 'lab',
  kubernetesVersion: 'v1.32.4',
  podSubnet: '10.250.0.0/16',
  serviceSubnet: '10.97.0.0/16',
  apiServer: { hostPort: 7443, advertiseAddress: '192.168.1.10' },
  controlPlaneEndpoint: '192.168.1.10:7443',
  nodes: [
    { name: 'lab-control-plane', role: 'control-plane', labels: { 'rootlet.dev/host': 'alice-box' } },
    { name: 'lab-worker', role: 'worker', labels: { 'rootlet.dev/host': 'alice-box' } },
    { name: 'lab-node2', role: 'worker', labels: { 'rootlet.dev/host': 'node2', gpu: 'on', 'topology.example.com/rack': 'r7' } },
  ],
  hostAddresses: ['192.168.1.10', '10.8.0.1', 'lab.example.com'],
  featureGates: { SidecarContainers: false, InPlacePodVerticalScaling: true },
  extraArgs: {
    apiServer: [{ name: 'audit-log-maxage', value: '7' }],
    controllerManager: [{ name: 'node-cidr-mask-size', value: '24' }],
    scheduler: [{ name: 'v', value: '2' }],
    kubelet: [{ name: 'v', value: '4' }],
  },
  kubeletPort: 11250,
  userNamespacedPods: true,
  nodeIdCount: 65536 * 200,
};

function node(spec: KubeClusterSpec, name: string): KubeNode {
  const found = spec.nodes.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no node ${name}`);
  return found;
}

const controlPlane = (spec: KubeClusterSpec) => spec.nodes[0]!;

interface InitDocuments {
  init: InitConfiguration;
  cluster: ClusterConfiguration;
  kubelet: KubeletConfiguration;
  proxy: KubeProxyConfiguration;
}

/** Parsed with YAML 1.1 rules, as kubeadm's go-yaml reads it. */
function parse(text: string): { kind: string; apiVersion: string }[] {
  return Array.from(parseAllDocuments(text, { version: '1.1' }), (document) => {
    expect(document.errors).toEqual([]);
    return document.toJS() as { kind: string; apiVersion: string };
  });
}

function parseInit(text: string): InitDocuments {
  const documents = parse(text);
  expect(documents.map((document) => `${document.apiVersion} ${document.kind}`)).toEqual([
    'kubeadm.k8s.io/v1beta4 InitConfiguration',
    'kubeadm.k8s.io/v1beta4 ClusterConfiguration',
    'kubelet.config.k8s.io/v1beta1 KubeletConfiguration',
    'kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration',
  ]);
  const [init, cluster, kubelet, proxy] = documents as unknown as [InitConfiguration, ClusterConfiguration, KubeletConfiguration, KubeProxyConfiguration];
  return { init, cluster, kubelet, proxy };
}

function parseJoin(text: string): JoinConfiguration {
  const documents = parse(text);
  expect(documents.map((document) => `${document.apiVersion} ${document.kind}`)).toEqual(['kubeadm.k8s.io/v1beta4 JoinConfiguration']);
  return documents[0] as unknown as JoinConfiguration;
}

describe('golden kubeadm configuration', () => {
  it('for a single control plane with the default spec', async () => {
    await expect(renderInitConfig(SINGLE, controlPlane(SINGLE), { bootstrapToken: TOKEN })).toMatchFileSnapshot(
      '../golden/kube/init.single-control-plane.yaml',
    );
  });

  it('for a control plane with two workers, extra SANs, feature gates and extra args', async () => {
    await expect(renderInitConfig(LAB, controlPlane(LAB), { bootstrapToken: TOKEN })).toMatchFileSnapshot('../golden/kube/init.control-plane-two-workers.yaml');
  });

  it('for a worker joining', async () => {
    await expect(renderJoinConfig(LAB, node(LAB, 'lab-node2'), JOIN)).toMatchFileSnapshot('../golden/kube/join.worker.yaml');
  });

  it('for a worker on another host', async () => {
    await expect(renderJoinConfig(LAB, { ...node(LAB, 'lab-node2'), hostAddress: '192.168.1.12' }, JOIN)).toMatchFileSnapshot(
      '../golden/kube/join.remote-worker.yaml',
    );
  });
});

describe('KubeletConfiguration', () => {
  const { kubelet } = parseInit(renderInitConfig(SINGLE, controlPlane(SINGLE), { bootstrapToken: TOKEN }));

  it('runs the kubelet in a user namespace, without swap checks, under /kubelet', () => {
    expect(kubelet.featureGates).toEqual({ KubeletInUserNamespace: true });
    expect(kubelet.failSwapOn).toBe(false);
    expect(kubelet.cgroupRoot).toBe('/kubelet');
    expect(kubelet.cgroupDriver).toBe('systemd');
  });

  it("keeps kind's disk-eviction and image-GC settings", () => {
    expect(kubelet.imageGCHighThresholdPercent).toBe(100);
    expect(kubelet.evictionHard).toEqual({ 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' });
  });

  it('listens on the default kubelet port, or the spec one', () => {
    expect(kubelet.port).toBe(10250);
    expect(parseInit(renderInitConfig(LAB, controlPlane(LAB), { bootstrapToken: TOKEN })).kubelet.port).toBe(11250);
  });

  it('pins one 65536-id block per user-namespaced pod where the version has the field (1.33+)', () => {
    expect(kubelet.userNamespaces).toEqual({ idsPerPod: 65536 });
    expect(parseInit(renderInitConfig(LAB, controlPlane(LAB), { bootstrapToken: TOKEN })).kubelet.userNamespaces).toBeUndefined();
  });
});

describe('KubeProxyConfiguration', () => {
  it('uses iptables and leaves the conntrack sysctls alone', () => {
    const { proxy } = parseInit(renderInitConfig(SINGLE, controlPlane(SINGLE), { bootstrapToken: TOKEN }));
    expect(proxy.mode).toBe('iptables');
    expect(proxy.conntrack).toEqual({ maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' });
    expect(proxy.featureGates).toEqual({ KubeletInUserNamespace: true });
  });
});

describe('ClusterConfiguration', () => {
  const single = parseInit(renderInitConfig(SINGLE, controlPlane(SINGLE), { bootstrapToken: TOKEN })).cluster;
  const lab = parseInit(renderInitConfig(LAB, controlPlane(LAB), { bootstrapToken: TOKEN })).cluster;

  it('takes pod and service subnets from the spec, with kind and Usernetes defaults', () => {
    expect(single.networking).toEqual({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' });
    expect(lab.networking).toEqual({ podSubnet: '10.250.0.0/16', serviceSubnet: '10.97.0.0/16' });
  });

  it('names the cluster and its version', () => {
    expect(single.clusterName).toBe('demo');
    expect(single.kubernetesVersion).toBe('v1.37.0');
  });

  it('reaches the control plane at its node name and API server port, unless the spec names an endpoint', () => {
    expect(single.controlPlaneEndpoint).toBe('demo-control-plane:6443');
    const moved = { ...SINGLE, apiServer: { hostPort: 7443 } };
    expect(parseInit(renderInitConfig(moved, controlPlane(moved), { bootstrapToken: TOKEN })).cluster.controlPlaneEndpoint).toBe('demo-control-plane:7443');
    expect(lab.controlPlaneEndpoint).toBe('192.168.1.10:7443');
  });

  it('signs the API server certificate for localhost, 127.0.0.1, the node name and every host address, once each', () => {
    expect(single.apiServer.certSANs).toEqual(['localhost', '127.0.0.1', 'demo-control-plane']);
    expect(lab.apiServer.certSANs).toEqual(['localhost', '127.0.0.1', 'lab-control-plane', '192.168.1.10', '10.8.0.1', 'lab.example.com']);
    const endpoint = parseInit(
      renderInitConfig({ ...SINGLE, controlPlaneEndpoint: '[fd00::1]:6443' }, controlPlane(SINGLE), { bootstrapToken: TOKEN }),
    ).cluster;
    expect(endpoint.apiServer.certSANs).toContain('fd00::1');
  });

  it('sets the feature gates on the API server, controller manager and scheduler, sorted, as kind does', () => {
    const gates = 'InPlacePodVerticalScaling=true,KubeletInUserNamespace=true,SidecarContainers=false,UserNamespacesSupport=true';
    expect(single.apiServer.extraArgs).toEqual([{ name: 'feature-gates', value: 'KubeletInUserNamespace=true' }]);
    expect(single.controllerManager.extraArgs).toEqual([{ name: 'feature-gates', value: 'KubeletInUserNamespace=true' }]);
    expect(single.scheduler.extraArgs).toEqual([{ name: 'feature-gates', value: 'KubeletInUserNamespace=true' }]);
    expect(lab.apiServer.extraArgs).toEqual([
      { name: 'advertise-address', value: '192.168.1.10' },
      // Reached from other hosts: kubelets at their host's address (ExternalIP) first.
      { name: 'kubelet-preferred-address-types', value: 'ExternalIP,InternalIP,Hostname' },
      { name: 'feature-gates', value: gates },
      { name: 'audit-log-maxage', value: '7' },
    ]);
    expect(lab.controllerManager.extraArgs).toEqual([
      { name: 'feature-gates', value: gates },
      { name: 'node-cidr-mask-size', value: '24' },
    ]);
    expect(lab.scheduler.extraArgs).toEqual([
      { name: 'feature-gates', value: gates },
      { name: 'v', value: '2' },
    ]);
  });

  it('gives the kubelet and kube-proxy the same gates as maps', () => {
    const { kubelet, proxy } = parseInit(renderInitConfig(LAB, controlPlane(LAB), { bootstrapToken: TOKEN }));
    const gates = { InPlacePodVerticalScaling: true, KubeletInUserNamespace: true, SidecarContainers: false, UserNamespacesSupport: true };
    expect(kubelet.featureGates).toEqual(gates);
    expect(proxy.featureGates).toEqual(gates);
    expect(Object.keys(kubelet.featureGates)).toEqual(Object.keys(gates));
  });
});

describe('UserNamespacesSupport', () => {
  const gatesOf = (spec: KubeClusterSpec) => parseInit(renderInitConfig(spec, controlPlane(spec), { bootstrapToken: TOKEN })).kubelet.featureGates;

  it("is left to the version's default, and turned on or off by the spec switch where the default differs", () => {
    expect(gatesOf({ ...SINGLE, kubernetesVersion: 'v1.32.4' })).not.toHaveProperty('UserNamespacesSupport');
    expect(gatesOf({ ...SINGLE, kubernetesVersion: 'v1.32.4', userNamespacedPods: true })).toMatchObject({ UserNamespacesSupport: true });
    expect(gatesOf({ ...SINGLE, kubernetesVersion: 'v1.34.1' })).not.toHaveProperty('UserNamespacesSupport');
    expect(gatesOf({ ...SINGLE, kubernetesVersion: 'v1.34.1', userNamespacedPods: false })).toMatchObject({ UserNamespacesSupport: false });
  });

  it('cannot be turned off where it is GA and locked (1.36+)', () => {
    const error = thrown(() => renderInitConfig({ ...SINGLE, userNamespacedPods: false }, controlPlane(SINGLE), { bootstrapToken: TOKEN }));
    expect(error.code).toBe('userns-locked');
    expect(error.exitCode).toBe(2);
  });
});

describe('InitConfiguration', () => {
  const single = parseInit(renderInitConfig(SINGLE, controlPlane(SINGLE), { bootstrapToken: TOKEN })).init;
  const lab = parseInit(renderInitConfig(LAB, controlPlane(LAB), { bootstrapToken: TOKEN })).init;

  it('carries the given bootstrap token with a short TTL', () => {
    expect(single.bootstrapTokens).toHaveLength(1);
    expect(single.bootstrapTokens[0]).toMatchObject({ token: TOKEN, ttl: '30m', usages: ['signing', 'authentication'] });
    expect(BOOTSTRAP_TOKEN_TTL).toBe('30m');
  });

  it('names and labels the node, on containerd', () => {
    expect(lab.nodeRegistration).toEqual({
      name: 'lab-control-plane',
      criSocket: 'unix:///run/containerd/containerd.sock',
      kubeletExtraArgs: [
        { name: 'node-labels', value: 'rootlet.dev/host=alice-box' },
        { name: 'v', value: '4' },
      ],
    });
    expect(single.nodeRegistration).not.toHaveProperty('kubeletExtraArgs');
  });

  it('untaints a control plane that has no workers, and only then', () => {
    expect(single.nodeRegistration.taints).toEqual([]);
    expect(lab.nodeRegistration).not.toHaveProperty('taints');
  });

  it('binds the API server to its published port and leaves the node address to kubeadm', () => {
    expect(single.localAPIEndpoint).toEqual({ bindPort: 6443 });
    expect(lab.localAPIEndpoint).toEqual({ bindPort: 7443 });
  });

  it('skips preflight, and the file says why', () => {
    const text = renderInitConfig(SINGLE, controlPlane(SINGLE), { bootstrapToken: TOKEN });
    expect(single.skipPhases).toEqual(['preflight']);
    expect(text).toMatch(/# kubeadm preflight is skipped, as kind does: .*\n.*\nskipPhases:/);
  });
});

describe('JoinConfiguration', () => {
  const join = parseJoin(renderJoinConfig(LAB, node(LAB, 'lab-node2'), JOIN));

  it('discovers the control plane with the token, pinned to the CA hash', () => {
    expect(join.discovery).toEqual({ bootstrapToken: { apiServerEndpoint: '192.168.1.10:7443', token: TOKEN, caCertHashes: [CA_HASH] } });
    expect(JSON.stringify(join)).not.toContain('unsafeSkipCAVerification');
  });

  it('names and labels the node, sorted by key, and keeps strings YAML 1.1 reads as booleans quoted', () => {
    expect(join.nodeRegistration).toEqual({
      name: 'lab-node2',
      criSocket: 'unix:///run/containerd/containerd.sock',
      kubeletExtraArgs: [
        { name: 'node-labels', value: 'gpu=on,rootlet.dev/host=node2,topology.example.com/rack=r7' },
        { name: 'v', value: '4' },
      ],
    });
    const onLabel = renderJoinConfig({ ...LAB, extraArgs: { kubelet: [{ name: 'fail-swap-on', value: 'off' }] } }, node(LAB, 'lab-worker'), JOIN);
    expect(parseJoin(onLabel).nodeRegistration.kubeletExtraArgs).toContainEqual({ name: 'fail-swap-on', value: 'off' });
  });

  it('registers a node on another host tainted NoExecute, its addresses left to rootlet (cloud-provider external)', () => {
    const remote = parseJoin(renderJoinConfig(LAB, { ...node(LAB, 'lab-node2'), hostAddress: '192.168.1.12' }, JOIN));
    expect(remote.nodeRegistration.taints).toEqual([{ key: 'rootlet.dev/unconfigured', effect: 'NoExecute' }]);
    expect(remote.nodeRegistration.kubeletExtraArgs).toContainEqual({ name: 'cloud-provider', value: 'external' });
    // A local worker keeps kubeadm's defaults.
    expect(join.nodeRegistration.taints).toBeUndefined();
    const cloud = thrown(() => renderJoinConfig({ ...LAB, extraArgs: { kubelet: [{ name: 'cloud-provider', value: 'gce' }] } }, node(LAB, 'lab-node2'), JOIN));
    expect(cloud).toMatchObject({ exitCode: 2, message: expect.stringContaining('is set by rootlet') as unknown });
  });

  it("keeps the user's own kubelet-preferred-address-types", () => {
    const own = { name: 'kubelet-preferred-address-types', value: 'InternalIP' };
    const rendered = parseInit(renderInitConfig({ ...LAB, extraArgs: { apiServer: [own] } }, controlPlane(LAB), { bootstrapToken: TOKEN }));
    expect(rendered.cluster.apiServer.extraArgs?.filter((arg) => arg.name === own.name)).toEqual([own]);
  });

  it('skips preflight and carries no KubeletConfiguration (joins read the cluster-wide kubelet-config)', () => {
    expect(join.skipPhases).toEqual(['preflight']);
  });

  it('adds the port to discovery when the endpoint has none', () => {
    const endpoints = ['api.lab.test', 'fd00::1', '[fd00::1]', '[fd00::1]:7000'].map(
      (controlPlaneEndpoint) =>
        parseJoin(renderJoinConfig({ ...LAB, controlPlaneEndpoint }, node(LAB, 'lab-worker'), JOIN)).discovery.bootstrapToken.apiServerEndpoint,
    );
    expect(endpoints).toEqual(['api.lab.test:7443', '[fd00::1]:7443', '[fd00::1]:7443', '[fd00::1]:7000']);
  });
});

describe('refusals', () => {
  it.each(['v1.30.2', 'v1.22.0', 'v2.0.0'])('Kubernetes %s is unsupported: exit 2 with a hint', (kubernetesVersion) => {
    for (const render of [
      () => renderInitConfig({ ...SINGLE, kubernetesVersion }, controlPlane(SINGLE), { bootstrapToken: TOKEN }),
      () => renderJoinConfig({ ...LAB, kubernetesVersion }, node(LAB, 'lab-worker'), JOIN),
    ]) {
      const error = thrown(render);
      expect(error.code).toBe('kubernetes-version');
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain(kubernetesVersion);
      expect(error.hint).toContain('v1.31.0 or newer');
    }
  });

  it.each(['1.37.0', 'latest', 'v1.37', 'stable-1'])('"%s" is not a version', (kubernetesVersion) => {
    const error = thrown(() => renderInitConfig({ ...SINGLE, kubernetesVersion }, controlPlane(SINGLE), { bootstrapToken: TOKEN }));
    expect(error.exitCode).toBe(2);
    expect(error.hint).toContain('v1.37.0');
  });

  it('accepts pre-release versions', () => {
    expect(
      parseInit(renderInitConfig({ ...SINGLE, kubernetesVersion: 'v1.38.0-alpha.1' }, controlPlane(SINGLE), { bootstrapToken: TOKEN })).cluster
        .kubernetesVersion,
    ).toBe('v1.38.0-alpha.1');
  });

  it('a malformed token, without showing it', () => {
    const secret = 'ABCDEF.0123456789abcdef';
    const error = thrown(() => renderInitConfig(SINGLE, controlPlane(SINGLE), { bootstrapToken: secret }));
    expect(error.code).toBe('bootstrap-token');
    expect(JSON.stringify(error.toJSON())).not.toContain(secret);
    expect(thrown(() => renderJoinConfig(LAB, node(LAB, 'lab-worker'), { ...JOIN, bootstrapToken: secret })).code).toBe('bootstrap-token');
  });

  it('a CA hash that is not sha256:<64 lowercase hex>', () => {
    for (const caCertHash of ['2f8e0c3a', CA_HASH.toUpperCase(), 'sha1:' + '0'.repeat(40), CA_HASH.slice(0, -1)])
      expect(thrown(() => renderJoinConfig(LAB, node(LAB, 'lab-worker'), { ...JOIN, caCertHash })).code).toBe('ca-cert-hash');
  });

  it('init on a worker, join of a control plane', () => {
    expect(thrown(() => renderInitConfig(LAB, node(LAB, 'lab-worker'), { bootstrapToken: TOKEN })).code).toBe('node-role');
    expect(thrown(() => renderJoinConfig(LAB, controlPlane(LAB), JOIN)).code).toBe('node-role');
  });

  it('KubeletInUserNamespace off', () => {
    const error = thrown(() =>
      renderInitConfig({ ...SINGLE, featureGates: { KubeletInUserNamespace: false } }, controlPlane(SINGLE), { bootstrapToken: TOKEN }),
    );
    expect(error.exitCode).toBe(2);
  });

  it('extra args that repeat what rootlet sets, or carry dashes', () => {
    const cases: [KubeClusterSpec['extraArgs'], string][] = [
      [{ apiServer: [{ name: 'feature-gates', value: 'A=true' }] }, 'featureGates'],
      [{ scheduler: [{ name: 'feature-gates', value: 'A=true' }] }, 'featureGates'],
      [{ apiServer: [{ name: 'advertise-address', value: '10.0.0.1' }] }, 'advertiseAddress'],
      [{ kubelet: [{ name: 'node-labels', value: 'a=b' }] }, 'labels'],
      [{ controllerManager: [{ name: '--v', value: '2' }] }, '"v"'],
    ];
    for (const [extraArgs, hint] of cases) {
      const error = thrown(() => renderInitConfig({ ...SINGLE, extraArgs }, controlPlane(SINGLE), { bootstrapToken: TOKEN }));
      expect(error.code).toBe('extra-args');
      expect(error.exitCode).toBe(2);
      expect(error.hint).toContain(hint);
    }
  });

  it('labels that would corrupt the --node-labels list', () => {
    for (const labels of [{ 'a,b': 'c' }, { a: 'b=c' }, { a: 'x,y' }, { '-a': 'b' }] as Record<string, string>[]) {
      const spec: KubeClusterSpec = { ...SINGLE, nodes: [{ name: 'demo-control-plane', role: 'control-plane', labels }] };
      expect(thrown(() => renderInitConfig(spec, controlPlane(spec), { bootstrapToken: TOKEN })).code).toBe('node-label');
    }
  });

  it('a cluster without a control plane and no endpoint', () => {
    const spec: KubeClusterSpec = { ...SINGLE, nodes: [{ name: 'demo-worker', role: 'worker' }] };
    expect(thrown(() => renderJoinConfig(spec, node(spec, 'demo-worker'), JOIN)).code).toBe('no-control-plane');
  });
});
