import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { packArchive, type ArchiveEntry } from '../../src/engine/archive.js';
import type { Engine } from '../../src/engine/engine.js';
import { nodeAddress } from '../../src/cluster/addresses.js';
import { launchNodes } from '../../src/engine/launch.js';
import { chooseSubnet } from '../../src/engine/subnet.js';
import { LABELS, type ClusterSettings, type EngineKind, type ExecResult, type NodeSpec } from '../../src/engine/types.js';
import { waitForNode } from '../../src/engine/wait-node.js';
import { caCertHash, newBootstrapToken } from '../../src/kube/bootstrap-token.js';
import { DEFAULT_POD_SUBNET, type KubeClusterSpec } from '../../src/kube/cluster-spec.js';
import { FLANNEL_DAEMONSET, renderFlannelManifest } from '../../src/kube/flannel.js';
import { renderInitConfig, renderJoinConfig } from '../../src/kube/kubeadm-config.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { ensureStandinImage } from '../support/standin-image.js';

/**
 * The stand-in kubeadm, kubectl and API server of test/node-image, driven as rootlet drives the real ones: configs
 * rendered by rootlet's own renderers, copied in through the engine's archive API, commands run with engine exec and
 * secrets on stdin or in files only. The full flow runs on both engines; the checks of what the tools refuse on one.
 */
const sockets = engineSockets();
const kinds = (['podman', 'docker'] as const).filter((kind) => sockets[kind]);
for (const missing of (['podman', 'docker'] as const).filter((kind) => !sockets[kind])) {
  console.warn(MISSING_ENGINES);
  it.skip(`rootless ${missing}: ${MISSING_ENGINES}`, () => undefined);
}

const run = `st${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const libModules = existsSync('/lib/modules');
const NODE_IMAGE = path.resolve(import.meta.dirname, '../node-image');
const PKI = path.join(NODE_IMAGE, 'pki');
const CA_PEM = readFileSync(path.join(PKI, 'ca.crt'), 'utf8');
const CA_HASH = readFileSync(path.join(PKI, 'ca.sha256'), 'utf8').trim();
const INIT_FILE = '/kind/rootlet-init.yaml';
const JOIN_FILE = '/kind/rootlet-join.yaml';
const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

/** A CNI-like DaemonSet: what makes the stand-in's nodes Ready. */
const CNI_MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: st-cni
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: st-cni-ds
  namespace: st-cni
  labels: {app: st-cni}
spec:
  selector:
    matchLabels:
      app: st-cni
  template:
    metadata:
      labels:
        app: st-cni
    spec:
      hostNetwork: true
      tolerations:
      - operator: Exists
        effect: NoSchedule
      containers:
      - name: cni
        image: "example.com/cni:v1"
`;

interface NodeList {
  kind: string;
  items: Array<{
    metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string>; creationTimestamp: string };
    spec: { taints?: Array<{ key: string; value?: string; effect: string }>; unschedulable?: boolean };
    status: {
      conditions: Array<{ type: string; status: string; reason: string; message: string }>;
      nodeInfo: { kubeletVersion: string };
      addresses?: Array<{ type: string; address: string }>;
    };
  }>;
}
interface PodList {
  items: Array<{
    metadata: { name: string; namespace: string; labels: Record<string, string>; ownerReferences: Array<{ kind: string; name: string }> };
    spec: { nodeName?: string };
    status: { phase: string; hostIP?: string; conditions: Array<{ type: string; status: string }> };
  }>;
}
interface EventList {
  items: Array<{ involvedObject: { kind: string; name: string }; reason: string; message: string; lastTimestamp: string }>;
}

/** containerd's name for this machine's architecture: the stand-in ctr unpacks (and checks) only images of it. */
const ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const IMPORT = ['images', 'import', '--all-platforms', '--digests'];

interface ArchiveImage {
  tags: string[] | null;
  /** Its one layer's file content; gzip: the layer compressed, as some archives carry them. */
  layer: string;
  gzip?: boolean;
  /** The config under blobs/sha256/<hex>, as Docker 25+ names it, instead of <hex>.json. */
  blobs?: boolean;
}

/**
 * A docker-archive as `docker save` and `podman save` write one (manifest.json, a config named by its digest, a
 * layer tar), built with rootlet's own tar writer; `edit` changes its entries before they are packed.
 */
async function dockerArchive(
  images: ArchiveImage[],
  edit: (entries: ArchiveEntry[], manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }>) => void = () => undefined,
): Promise<{ archive: Buffer; ids: string[] }> {
  const entries: ArchiveEntry[] = [];
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const ids: string[] = [];
  for (const image of images) {
    const tar = await packArchive([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/hello', content: image.layer },
    ]);
    const layer = image.gzip ? gzipSync(tar) : tar;
    const layerName = `${sha256(layer)}/layer.tar`;
    const config = JSON.stringify({
      architecture: ARCH,
      os: 'linux',
      config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'], User: '1000' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] },
      history: [{ created_by: `layer ${image.layer}` }],
    });
    const id = sha256(config);
    const configName = image.blobs ? `blobs/sha256/${id}` : `${id}.json`;
    entries.push({ name: configName, content: config }, { name: layerName, content: layer });
    manifest.push({ Config: configName, RepoTags: image.tags, Layers: [layerName] });
    ids.push(id);
  }
  edit(entries, manifest);
  const archive = await packArchive([...entries, { name: 'manifest.json', content: JSON.stringify(manifest) }]);
  return { archive, ids };
}

interface ImageStatus {
  status: { id: string; repoTags: string[]; repoDigests: string[]; size: string; uid?: { value: string }; username: string; pinned: boolean };
  info: { info: { chainID: string; imageSpec: { architecture: string; os: string; rootfs: { type: string; diff_ids: string[] } } } };
}

const ready = (conditions: Array<{ type: string; status: string }>) => conditions.find((condition) => condition.type === 'Ready')?.status;

/**
 * Engine access and the rootlet-like steps the tests take, for one engine; registers its own beforeAll and afterAll
 * (which removes every container and network it made) in the describe block it is called in.
 */
function harness(kind: EngineKind) {
  let engine!: Engine;
  let raw!: Docker;
  let image!: string;
  const clusters: ClusterSettings[] = [];
  const launched = new Map<string, { settings: ClusterSettings; spec: NodeSpec }>();

  beforeAll(async () => {
    engine = await testEngine(kind, sockets[kind]!);
    raw = new Docker({ socketPath: sockets[kind]! });
    image = await ensureStandinImage(engine);
  }, 120_000);

  afterAll(async () => {
    for (const settings of clusters) {
      for (const node of await engine.listNodes(settings.name).catch(() => [])) await engine.removeNode(node.name).catch(() => undefined);
      await engine.removeNetwork(settings.network).catch(() => undefined);
    }
  });

  const h = {
    get engine() {
      return engine;
    },
    get raw() {
      return raw;
    },

    /** Nodes as `rootlet up` places them: fixed addresses, the control plane's name in every node's /etc/hosts. */
    async cluster(name: string, roles: Array<[string, NodeSpec['role']]>): Promise<ClusterSettings> {
      const settings: ClusterSettings = { name, image, network: `rootlet-${name}` };
      clusters.push(settings);
      const choose = (taken: string[]) => chooseSubnet(name, taken);
      const { subnet } = await engine.ensureNetwork(settings.network, { [LABELS.cluster]: name }, choose);
      const hosts = { [`${name}-control-plane`]: nodeAddress(subnet, 0) };
      const nodes = roles.map(([suffix, role], index): NodeSpec => ({
        name: `${name}-${suffix}`,
        role,
        hostId: 'local',
        libModules,
        ports: [],
        address: nodeAddress(subnet, index),
        hosts,
      }));
      await launchNodes(engine, settings, nodes, { chooseSubnet: choose, bootTimeoutMs: 60_000 });
      for (const spec of nodes) launched.set(spec.name, { settings, spec });
      return settings;
    },

    /** A fresh container (and /var volume) in place of a node: same name, same address. */
    async recreate(node: string): Promise<void> {
      const { settings, spec } = launched.get(node)!;
      await engine.removeNode(node);
      await launchNodes(engine, settings, [spec], { chooseSubnet: (taken) => chooseSubnet(settings.name, taken), bootTimeoutMs: 60_000 });
    },

    async exec(node: string, argv: string[], stdin?: string): Promise<ExecResult> {
      return engine.exec(node, argv, stdin === undefined ? {} : { stdin });
    },

    /** kubeadm init as rootlet runs it: config copied in, deleted afterwards. */
    async init(node: string, config: string, extra: string[] = []): Promise<ExecResult> {
      await engine.copyIn(node, INIT_FILE, config, 0o600);
      try {
        return await h.exec(node, ['kubeadm', 'init', '--config', INIT_FILE, '--skip-token-print', ...extra]);
      } finally {
        await h.exec(node, ['rm', '-f', INIT_FILE]);
      }
    },

    async join(node: string, config: string): Promise<ExecResult> {
      await engine.copyIn(node, JOIN_FILE, config, 0o600);
      try {
        return await h.exec(node, ['kubeadm', 'join', '--config', JOIN_FILE, '--v=2']);
      } finally {
        await h.exec(node, ['rm', '-f', JOIN_FILE]);
      }
    },

    async kubectlJson<T>(node: string, argv: string[]): Promise<T> {
      const result = await h.exec(node, ['kubectl', ...argv, '-o', 'json']);
      expect(result, result.stderr).toMatchObject({ exitCode: 0, stderr: '' });
      return JSON.parse(result.stdout) as T;
    },
  };
  return h;
}

async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe.each(kinds)('stand-in kubeadm and kubectl on rootless %s', (kind: EngineKind) => {
  const h = harness(kind);

  describe('a cluster brought up as rootlet up will', () => {
    const name = `${run}${kind.slice(0, 1)}`;
    const cp = `${name}-control-plane`;
    const workers = [`${name}-worker`, `${name}-worker2`];
    const spare = `${name}-worker3`;
    let spec: KubeClusterSpec;
    let initToken: string;
    let joinToken: string;
    let endpoint: string;

    const joinConfig = (node: string, secrets: { bootstrapToken: string; caCertHash: string }) =>
      renderJoinConfig(
        spec,
        spec.nodes.find((candidate) => candidate.name === node)!,
        secrets,
      );

    beforeAll(async () => {
      await h.cluster(name, [
        ['control-plane', 'control-plane'],
        ['worker', 'worker'],
        ['worker2', 'worker'],
        ['worker3', 'worker'],
      ]);
      // The default endpoint, <name>-control-plane:6443, resolved through the hosts entry (Podman 4.3's CNI backend here
      // has no container-name DNS; Docker's would answer too).
      endpoint = `${cp}:6443`;
      spec = {
        name,
        kubernetesVersion: 'v1.37.0',
        nodes: [
          { name: cp, role: 'control-plane' },
          ...[...workers, spare].map((worker) => ({ name: worker, role: 'worker' as const, labels: { 'rootlet.dev/host': 'local' } })),
        ],
      };
      initToken = newBootstrapToken();
    }, 120_000);

    it('initialise the control plane from rootlet’s rendered config, without printing the token', async () => {
      const result = await h.init(cp, renderInitConfig(spec, spec.nodes[0]!, { bootstrapToken: initToken }));
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain('[init] Using Kubernetes version: v1.37.0');
      expect(result.stdout).toContain('Your Kubernetes control-plane has initialized successfully!');
      expect(result.stdout).toContain(`kubeadm join ${endpoint} --token <value withheld>`);
      expect(result.stdout + result.stderr).not.toContain(initToken);
      expect((await h.exec(cp, ['ls', INIT_FILE])).exitCode).not.toBe(0);

      const caPem = (await h.engine.copyOut(cp, '/etc/kubernetes/pki/ca.crt')).toString();
      expect(caPem).toBe(CA_PEM);
      // rootlet's caCertHash against openssl's, computed when the test CA was made.
      expect(caCertHash(caPem)).toBe(CA_HASH);

      const admin = parse((await h.engine.copyOut(cp, '/etc/kubernetes/admin.conf')).toString()) as Record<string, unknown>;
      expect(admin).toMatchObject({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name, cluster: { server: `https://${endpoint}` } }],
        users: [
          { name: 'kubernetes-admin', user: { 'client-certificate-data': expect.any(String) as unknown, 'client-key-data': expect.any(String) as unknown } },
        ],
        contexts: [{ name: `kubernetes-admin@${name}`, context: { cluster: name, user: 'kubernetes-admin' } }],
        'current-context': `kubernetes-admin@${name}`,
      });
      const clusterEntry = (admin.clusters as Array<{ cluster: Record<string, string> }>)[0]!.cluster;
      expect(Buffer.from(clusterEntry['certificate-authority-data']!, 'base64').toString()).toBe(CA_PEM);
      expect((await h.exec(cp, ['stat', '-c', '%a', '/etc/kubernetes/admin.conf'])).stdout.trim()).toBe('600');
      expect((await h.exec(cp, ['ls', '/etc/kubernetes/kubelet.conf'])).exitCode).toBe(0);
    });

    it('refuse a second init on the same node', async () => {
      const again = await h.init(cp, renderInitConfig(spec, spec.nodes[0]!, { bootstrapToken: newBootstrapToken() }));
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toContain('[preflight] Some fatal errors occurred:');
      expect(again.stderr).toContain('[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]');
    });

    it('print a fresh token, and nothing else, with kubeadm token create', async () => {
      const created = await h.exec(cp, ['kubeadm', 'token', 'create', '--ttl', '15m', '--description', 'rootlet join']);
      expect(created.stderr).toBe('');
      expect(created.exitCode).toBe(0);
      expect(created.stdout).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}\n$/);
      joinToken = created.stdout.trim();
      expect(joinToken).not.toBe(initToken);
      // On a node that was never initialised there is no admin.conf to reach the API server with.
      const nowhere = await h.exec(spare, ['kubeadm', 'token', 'create', '--ttl', '15m']);
      expect(nowhere).toMatchObject({ exitCode: 1, stdout: '' });
      expect(nowhere.stderr).toContain('failed to load admin kubeconfig: open /etc/kubernetes/admin.conf: no such file or directory');
    });

    it('join workers concurrently with a token and the CA hash, and list every node NotReady until a CNI runs', async () => {
      const results = await Promise.all(workers.map(async (worker) => h.join(worker, joinConfig(worker, { bootstrapToken: joinToken, caCertHash: CA_HASH }))));
      for (const result of results) {
        expect(result.exitCode, result.stderr).toBe(0);
        expect(result.stdout).toContain('This node has joined the cluster:');
        expect(result.stdout + result.stderr).not.toContain(joinToken);
      }
      expect((await h.engine.copyOut(workers[0]!, '/etc/kubernetes/pki/ca.crt')).toString()).toBe(CA_PEM);
      const kubelet = parse((await h.engine.copyOut(workers[0]!, '/etc/kubernetes/kubelet.conf')).toString()) as {
        clusters: Array<{ cluster: { server: string } }>;
      };
      expect(kubelet.clusters[0]!.cluster.server).toBe(`https://${endpoint}`);

      const nodes = await h.kubectlJson<NodeList>(cp, ['get', 'nodes']);
      expect(nodes.kind).toBe('List');
      expect(nodes.items.map((node) => node.metadata.name).sort()).toEqual([cp, ...workers]);
      for (const node of nodes.items) {
        expect(node.status.conditions.find((condition) => condition.type === 'Ready')).toMatchObject({
          status: 'False',
          reason: 'KubeletNotReady',
          message: expect.stringContaining('cni plugin not initialized') as unknown,
        });
        expect(node.status.nodeInfo.kubeletVersion).toBe('v1.37.0');
        expect(node.status.addresses?.find((address) => address.type === 'InternalIP')?.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      }
      expect(nodes.items[0]!.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': cp, 'node-role.kubernetes.io/control-plane': '' });
      expect(nodes.items[0]!.spec.taints).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
      expect(nodes.items[1]!.metadata.labels).toMatchObject({ 'rootlet.dev/host': 'local' });

      const events = await h.kubectlJson<EventList>(cp, ['get', 'events', '-A']);
      for (const node of [cp, ...workers])
        expect(events.items).toContainEqual(
          expect.objectContaining({ reason: 'NodeNotReady', involvedObject: expect.objectContaining({ kind: 'Node', name: node }) as unknown }),
        );
      expect(events.items.some((event) => event.reason === 'FailedScheduling')).toBe(true);
    });

    it('refuse a wrong token, a wrong CA hash, an unknown token and an endpoint that does not answer, as kubeadm does', async () => {
      const id = joinToken.split('.')[0]!;
      const wrongSecret = await h.join(spare, joinConfig(spare, { bootstrapToken: `${id}.${'a'.repeat(16)}`, caCertHash: CA_HASH }));
      expect(wrongSecret.exitCode).toBe(1);
      expect(wrongSecret.stderr).toContain("couldn't validate the identity of the API Server: failed to verify JWS signature of received cluster info object");

      const otherCa = `sha256:${'0'.repeat(64)}`;
      const wrongHash = await h.join(spare, joinConfig(spare, { bootstrapToken: joinToken, caCertHash: otherCa }));
      expect(wrongHash.exitCode).toBe(1);
      expect(wrongHash.stderr).toContain(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${CA_HASH}" are pinned`);

      // kubeadm retries these until timeouts.discovery (rootlet renders 2m0s): a shorter one keeps the test quick.
      const short = (config: string) => {
        const shortened = config.replace(/^timeouts:\n {2}discovery: .*$/m, 'timeouts:\n  discovery: 2s');
        if (shortened === config) throw new Error('the rendered join config has no timeouts.discovery to shorten');
        return shortened;
      };
      const unknown = await h.join(spare, short(joinConfig(spare, { bootstrapToken: newBootstrapToken(), caCertHash: CA_HASH })));
      expect(unknown.exitCode).toBe(1);
      expect(unknown.stderr).toMatch(/could not find a JWS signature in the cluster-info ConfigMap for token ID "[a-z0-9]{6}"/);

      const unresolvable = await h.join(
        spare,
        short(
          joinConfig(spare, { bootstrapToken: joinToken, caCertHash: CA_HASH }).replace(
            `apiServerEndpoint: ${endpoint}`,
            `apiServerEndpoint: ${name}-nowhere:6443`,
          ),
        ),
      );
      expect(unresolvable.exitCode).toBe(1);
      // An unknown name: NXDOMAIN from Podman's resolver, a timeout from Docker's (its upstream is unreachable here).
      expect(unresolvable.stderr).toMatch(
        new RegExp(
          `failed to request the cluster-info ConfigMap: Get "https://${name}-nowhere:6443/.*": dial tcp: lookup ${name}-nowhere on \\S+: (no such host|i/o timeout)`,
        ),
      );

      const refused = await h.join(
        spare,
        short(joinConfig(spare, { bootstrapToken: joinToken, caCertHash: CA_HASH }).replace(`${endpoint}`, endpoint.replace(/:6443$/, ':6553'))),
      );
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/connect: connection refused/);

      for (const result of [wrongSecret, wrongHash, unknown, unresolvable, refused]) expect(result.stdout + result.stderr).not.toContain(joinToken);
      expect((await h.exec(spare, ['ls', '/etc/kubernetes/kubelet.conf'])).exitCode).not.toBe(0);
      const nodes = await h.kubectlJson<NodeList>(cp, ['get', 'nodes']);
      expect(nodes.items.map((node) => node.metadata.name)).not.toContain(spare);
    });

    it('refuse to join a node twice', async () => {
      const again = await h.join(workers[0]!, joinConfig(workers[0]!, { bootstrapToken: joinToken, caCertHash: CA_HASH }));
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toContain('[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists');
    });

    it('make the nodes, CoreDNS and the CNI pods Ready once a DaemonSet is applied', async () => {
      const applied = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], CNI_MANIFEST);
      expect(applied).toEqual({ exitCode: 0, stdout: 'namespace/st-cni created\ndaemonset.apps/st-cni-ds created\n', stderr: '' });
      const nodes = await until(
        'nodes Ready',
        async () => h.kubectlJson<NodeList>(cp, ['get', 'nodes']),
        (list) => list.items.every((node) => ready(node.status.conditions) === 'True'),
      );
      expect(nodes.items.every((node) => !node.spec.taints?.some((taint) => taint.key === 'node.kubernetes.io/not-ready'))).toBe(true);
      const pods = await until(
        'pods Ready',
        async () => h.kubectlJson<PodList>(cp, ['get', 'pods', '-A']),
        (list) => list.items.every((pod) => ready(pod.status.conditions) === 'True'),
      );
      const cni = pods.items.filter((pod) => pod.metadata.ownerReferences[0]?.name === 'st-cni-ds');
      expect(cni.map((pod) => pod.spec.nodeName).sort()).toEqual([cp, ...workers].sort());
      expect(
        cni.every(
          (pod) => pod.metadata.namespace === 'st-cni' && pod.metadata.labels.app === 'st-cni' && pod.metadata.ownerReferences[0]!.kind === 'DaemonSet',
        ),
      ).toBe(true);
      const coredns = pods.items.filter((pod) => pod.metadata.labels['k8s-app'] === 'kube-dns');
      expect(coredns).toHaveLength(2);
      expect(coredns.every((pod) => pod.status.phase === 'Running' && pod.metadata.ownerReferences[0]!.kind === 'ReplicaSet')).toBe(true);
      expect(
        pods.items
          .filter((pod) => pod.metadata.labels['k8s-app'] === 'kube-proxy')
          .map((pod) => pod.spec.nodeName)
          .sort(),
      ).toEqual([cp, ...workers].sort());
      for (const component of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
        expect(pods.items.map((pod) => pod.metadata.name)).toContain(`${component}-${cp}`);

      const again = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], CNI_MANIFEST);
      expect(again.stdout).toBe('namespace/st-cni unchanged\ndaemonset.apps/st-cni-ds unchanged\n');
      const changed = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], CNI_MANIFEST.replace('cni:v1', 'cni:v2'));
      expect(changed.stdout).toBe('namespace/st-cni unchanged\ndaemonset.apps/st-cni-ds configured\n');
    });

    it('answer kubectl as kubectl does when it cannot reach a server or is given a bad manifest', async () => {
      const noConfig = await h.engine.exec(cp, ['kubectl', 'get', 'nodes', '-o', 'json'], { env: { KUBECONFIG: '/nonexistent' } });
      expect(noConfig).toMatchObject({
        exitCode: 1,
        stderr: 'The connection to the server localhost:8080 was refused - did you specify the right host or port?\n',
      });
      const worker = await h.engine.exec(workers[0]!, ['kubectl', 'get', 'nodes', '-o', 'json'], { env: { KUBECONFIG: '/etc/kubernetes/admin.conf' } });
      expect(worker.exitCode).toBe(1);

      expect(await h.exec(cp, ['kubectl', 'apply', '-f', '-'], '# nothing\n')).toMatchObject({ exitCode: 1, stderr: 'error: no objects passed to apply\n' });
      const noKind = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], 'apiVersion: v1\nmetadata:\n  name: x\n');
      expect(noKind).toMatchObject({ exitCode: 1 });
      expect(noKind.stderr).toContain('error validating data: kind not set');
      const noName = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n');
      expect(noName.stderr).toContain('resource name may not be empty');
      const unknownKind = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n');
      expect(unknownKind.stderr).toContain('no matches for kind "Widget" in version "example.com/v1"');
      const noNamespace = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: nowhere\n');
      expect(noNamespace.stderr).toContain('namespaces "nowhere" not found');
      const unexpected = await h.exec(cp, ['kubectl', 'cordon', workers[0]!]);
      expect(unexpected).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('stand-in: unexpected command: kubectl cordon') as unknown });
    });

    // Last: a restart is where an engine-chosen address would change (Podman's CNI backend hands out a new one).
    it('bring the API server back when the control plane restarts, at the same address', async () => {
      const before = (await h.engine.inspectNode(cp))!.address;
      await h.raw.getContainer(cp).restart({ t: 0 });
      // /run is a tmpfs: the boot is waited for afresh.
      await waitForNode(h.engine, cp, { timeoutMs: 30_000, restartsBefore: (await h.engine.inspectNode(cp))!.restarts });
      expect((await h.engine.inspectNode(cp))!.address).toBe(before);
      const healthz = await h.exec(cp, ['sh', '-c', "printf 'POST /cgi-bin/healthz HTTP/1.0\\r\\nContent-Length: 0\\r\\n\\r\\n' | nc 127.0.0.1 6443"]);
      expect(healthz.stdout).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
      const nodes = await h.kubectlJson<NodeList>(cp, ['get', 'nodes']);
      expect(nodes.items).toHaveLength(3);
      expect((await h.exec(cp, ['kubeadm', 'token', 'create'])).stdout.trim()).toMatch(TOKEN);
    });
  });
});

// `rootlet load`'s path: an image archive streamed into the node's containerd through engine exec's stdin, as kind
// load does. On both engines: what the exec streams is the engine's.
describe.each(kinds)('stand-in ctr, crictl and containerd config dump on rootless %s', (kind: EngineKind) => {
  const h = harness(kind);
  const node = `${run}${kind[0]}i-control-plane`;
  let built: { archive: Buffer; ids: string[] };
  const images = async () => (await h.exec(node, ['ctr', '-n', 'k8s.io', 'images', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
  const inspect = async (ref: string) => {
    const result = await h.exec(node, ['crictl', 'inspecti', '-o', 'json', ref]);
    expect(result, result.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    return JSON.parse(result.stdout) as ImageStatus;
  };

  beforeAll(async () => {
    await h.cluster(`${run}${kind[0]}i`, [['control-plane', 'control-plane']]);
    built = await dockerArchive([
      { tags: ['localhost/app:1'], layer: 'app' },
      { tags: ['busybox'], layer: 'busybox', gzip: true, blobs: true },
    ]);
  }, 120_000);

  it('dump a containerd 2 config whose CRI images plugin names the snapshotter', async () => {
    const dump = await h.exec(node, ['containerd', 'config', 'dump']);
    expect(dump).toMatchObject({ exitCode: 0, stderr: '' });
    expect(dump.stdout).toMatch(/^version = 3$/m);
    const images = /^ {2}\[plugins\.'io\.containerd\.cri\.v1\.images'\]\n((?: {4}\S.*\n)+)/m.exec(dump.stdout);
    expect(images?.[1]).toContain("    snapshotter = 'overlayfs'\n");
    expect(dump.stdout).toContain("  [plugins.'io.containerd.cri.v1.runtime']\n");
  });

  it('import a docker-archive from stdin under containerd’s normalised names, and record what it received', async () => {
    const [app, busybox] = built.ids;
    const result = await h.engine.exec(node, ['ctr', '-n', 'k8s.io', ...IMPORT, '--snapshotter=overlayfs', '-'], { stdin: built.archive });
    expect(result, result.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    // The transfer service's last progress frame: every saved image, the index under ctr --digests' prefix first.
    expect(result.stdout).toMatch(
      /^import \d{4} \d\d \d\d@sha256:[0-9a-f]{15}\tsaved\t\nlocalhost\/app:1 +\tsaved\t\ndocker\.io\/library\/busybox:latest +\tsaved\t\n/m,
    );
    const names = await images();
    expect(names).toEqual(['docker.io/library/busybox:latest', expect.stringMatching(/^import-\d{4}-\d\d-\d\d@sha256:[0-9a-f]{64}$/), 'localhost/app:1']);
    const log = await h.exec(node, ['cat', '/var/lib/standin/images.log']);
    expect(log.stdout).toBe(
      `import sha256:${app} localhost/app:1 snapshotter=overlayfs bytes=${built.archive.length}\n` +
        `import sha256:${busybox} docker.io/library/busybox:latest snapshotter=overlayfs bytes=${built.archive.length}\n`,
    );
    expect((await h.exec(node, ['ls', '/var/lib/standin'])).stdout).not.toContain('import.');
  });

  it('show the images as the CRI does: by name (normalised), by id and by the id’s hex', async () => {
    const [app, busybox] = built.ids;
    const byName = await inspect('localhost/app:1');
    expect(byName.status).toMatchObject({ id: `sha256:${app}`, repoTags: ['localhost/app:1'], uid: { value: '1000' }, username: '', pinned: false });
    // The import's index resolves to its first image of this platform: that one carries its digest name too.
    expect(byName.status.repoDigests).toEqual([expect.stringMatching(/^docker\.io\/library\/import-\d{4}-\d\d-\d\d@sha256:[0-9a-f]{64}$/)]);
    expect(byName.info.info.imageSpec).toMatchObject({ architecture: ARCH, os: 'linux', rootfs: { type: 'layers' } });
    expect(byName.info.info.chainID).toBe(byName.info.info.imageSpec.rootfs.diff_ids[0]);
    for (const ref of ['busybox', 'docker.io/library/busybox:latest', `sha256:${busybox}`, busybox!]) {
      const status = await inspect(ref);
      expect(status.status).toMatchObject({ id: `sha256:${busybox}`, repoTags: ['docker.io/library/busybox:latest'], repoDigests: [] });
    }
    const missing = await h.exec(node, ['crictl', 'inspecti', '-o', 'json', 'busybox:1.36']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^time="[^"]+" level=fatal msg="no such image \\"busybox:1\.36\\" present"\n$/);
    const listed = await h.exec(node, ['crictl', 'images', '-o', 'json']);
    expect(listed.exitCode).toBe(0);
    const list = JSON.parse(listed.stdout) as { images: Array<{ id: string; repoTags: string[] }> };
    expect(list.images.map((image) => [image.id, image.repoTags])).toEqual([
      [`sha256:${busybox}`, ['docker.io/library/busybox:latest']],
      [`sha256:${app}`, ['localhost/app:1']],
    ]);
  });

  it('print crictl images as its table, crictl ps -a with no containers, and an empty journal of units (rootlet logs)', async () => {
    const table = await h.exec(node, ['crictl', 'images']);
    expect(table.exitCode, table.stderr).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^IMAGE +TAG +IMAGE ID +SIZE$/);
    expect(rows.slice(1).map((row) => row.split(/ +/).slice(0, 3))).toEqual([
      ['docker.io/library/busybox', 'latest', built.ids[1]!.slice(0, 13)],
      ['localhost/app', '1', built.ids[0]!.slice(0, 13)],
    ]);
    const ps = await h.exec(node, ['crictl', 'ps', '--all']);
    expect(ps.exitCode).toBe(0);
    expect(ps.stdout).toMatch(/^CONTAINER +IMAGE +CREATED +STATE +NAME +ATTEMPT +POD ID +POD +NAMESPACE\n$/);
    const journal = await h.exec(node, ['journalctl', '--no-pager', '--boot']);
    expect(journal.exitCode).toBe(0);
    expect(journal.stdout).toContain('Reached target multi-user.target');
    expect(await h.exec(node, ['journalctl', '--no-pager', '--boot', '--unit=kubelet'])).toMatchObject({ exitCode: 0, stdout: '-- No entries --\n' });
    expect((await h.exec(node, ['journalctl', '--follow'])).exitCode).toBe(2);
  });

  it('tag an image as containerd 2 does (replacing an existing name), and refuse an unknown source', async () => {
    const [app, busybox] = built.ids;
    const tagged = await h.exec(node, ['ctr', '--namespace=k8s.io', 'images', 'tag', '--force', 'docker.io/library/busybox:latest', 'localhost/app:1']);
    expect(tagged).toMatchObject({ exitCode: 0, stdout: 'localhost/app:1\n', stderr: '' });
    expect((await inspect('localhost/app:1')).status.id).toBe(`sha256:${busybox}`);
    // Without --force too: ctr tags through the transfer service, which replaces the target.
    const back = await h.exec(node, ['ctr', '-n', 'k8s.io', 'images', 'tag', 'localhost/app:1', 'localhost/app:2']);
    expect(back).toMatchObject({ exitCode: 0, stdout: 'localhost/app:2\n' });
    const missing = await h.exec(node, ['ctr', '-n', 'k8s.io', 'images', 'tag', '--force', 'busybox', 'localhost/app:3']);
    expect(missing).toMatchObject({ exitCode: 1, stdout: '', stderr: 'ctr: image "busybox": not found\n' });
    const log = (await h.exec(node, ['cat', '/var/lib/standin/images.log'])).stdout.split('\n');
    expect(log).toContain('tag docker.io/library/busybox:latest localhost/app:1');
    // A second import of the archive puts the names back, and is logged again.
    const again = await h.engine.exec(node, ['ctr', '--namespace', 'k8s.io', ...IMPORT, '--snapshotter', 'overlayfs', '-'], { stdin: built.archive });
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await inspect('localhost/app:1')).status.id).toBe(`sha256:${app}`);
    expect((await h.exec(node, ['cat', '/var/lib/standin/images.log'])).stdout.match(/^import sha256:/gm)).toHaveLength(4);
  });

  it('import what the engine’s image export writes, under the engine’s image id', async () => {
    const tag = await ensureStandinImage(h.engine);
    const archive = await buffer(await h.engine.exportImage(tag));
    const result = await h.engine.exec(node, ['ctr', '-n', 'k8s.io', ...IMPORT, '--snapshotter=overlayfs', '-'], { stdin: archive });
    expect(result, result.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    const status = await inspect(tag);
    expect(status.status.id).toBe(`sha256:${(await h.engine.inspectImage(tag))!.id}`);
    expect(status.status.repoTags).toEqual([tag]);
  });
});

// Checked on one engine: what they test does not depend on it.
if (kinds.length > 0) {
  // What kubeadm refuses, on a node that was never initialised (kubeadm init there writes nothing).
  describe(`stand-in kubeadm on rootless ${kinds[0]} refuses`, () => {
    const h = harness(kinds[0]!);
    const name = `${run}c`;
    const node = `${name}-control-plane`;
    let spec: KubeClusterSpec;
    let config: string;

    beforeAll(async () => {
      await h.cluster(name, [['control-plane', 'control-plane']]);
      spec = { name, kubernetesVersion: 'v1.37.0', nodes: [{ name: node, role: 'control-plane' }] };
      config = renderInitConfig(spec, spec.nodes[0]!, { bootstrapToken: newBootstrapToken() });
    }, 120_000);

    const refusals: Array<[string, (config: string) => string, number, RegExp]> = [
      [
        'an unknown field',
        (text) => text.replace('  bindPort: 6443\n', '  bindPort: 6443\n  bindAddress: 0.0.0.0\n'),
        1,
        /error unmarshaling configuration schema\.GroupVersionKind\{Group:"kubeadm\.k8s\.io", Version:"v1beta4", Kind:"InitConfiguration"\}: strict decoding error: unknown field "localAPIEndpoint\.bindAddress"/,
      ],
      [
        'the removed v1beta3 API',
        (text) => text.replaceAll('kubeadm.k8s.io/v1beta4', 'kubeadm.k8s.io/v1beta3'),
        1,
        /your configuration file uses an old API spec: "kubeadm\.k8s\.io\/v1beta3" \(kind: "ClusterConfiguration"\)\. Please use kubeadm v1\.36 instead/,
      ],
      [
        'a config without skipPhases: preflight',
        (text) => text.replace('skipPhases:\n  - preflight\n', ''),
        1,
        /\[preflight\] Some fatal errors occurred:\n\t\[ERROR SystemVerification\]/,
      ],
      [
        'a malformed token',
        (text) => text.replace(/token: [a-z0-9.]+/, 'token: abcdef.ABCDEF0123456789'),
        1,
        /the bootstrap token "abcdef\.ABCDEF0123456789" was not of the form/,
      ],
      [
        'an unquoted number where a string belongs',
        (text) => text.replace('clusterName: ', 'clusterName: 12345\nimageRepository: '),
        1,
        /cannot unmarshal number into Go struct field ClusterConfiguration\.clusterName of type string/,
      ],
      [
        'a Kubernetes version kubeadm 1.37 cannot deploy',
        (text) => text.replace('kubernetesVersion: v1.37.0', 'kubernetesVersion: v1.32.4'),
        1,
        /control plane version >= 1\.36\.0\. Current version: v1\.32\.4/,
      ],
      [
        'a document kubeadm init does not read',
        (text) => `${text}---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n`,
        1,
        /Ignored configuration document with GroupVersionKind kubeadm\.k8s\.io\/v1beta4, Kind=JoinConfiguration/,
      ],
      ['broken YAML', (text) => `${text}  - : [\n`, 1, /error converting YAML to JSON: yaml: line \d+: /],
    ];

    it.each(refusals)('%s', async (_what, edit, exitCode, message) => {
      const result = await h.init(node, edit(config));
      expect(result.stderr).toMatch(message);
      expect(result.exitCode).toBe(exitCode);
      expect((await h.exec(node, ['ls', '/etc/kubernetes/admin.conf'])).exitCode).not.toBe(0);
    });

    it('a token in argv, unknown flags and commands it does not model', async () => {
      const token = newBootstrapToken();
      const inArgv = await h.exec(node, ['kubeadm', 'join', 'somewhere:6443', '--token', token, '--discovery-token-unsafe-skip-ca-verification']);
      expect(inArgv.exitCode).toBe(2);
      expect(inArgv.stderr).toContain('stand-in: token in argv');
      expect(inArgv.stderr).not.toContain(token);
      await h.engine.copyIn(node, INIT_FILE, config, 0o600);
      expect(await h.exec(node, ['kubeadm', 'init', '--config', INIT_FILE, '--bogus'])).toMatchObject({
        exitCode: 1,
        stderr: 'unknown flag: --bogus\nTo see the stack trace of this error execute with --v=5 or higher\n',
      });
      expect(await h.exec(node, ['kubeadm', 'reset', '-f'])).toMatchObject({ exitCode: 2, stderr: 'stand-in: unexpected command: kubeadm reset -f\n' });
      expect(await h.exec(node, ['kubeadm', 'init', '--config', INIT_FILE, '--upload-certs'])).toMatchObject({ exitCode: 2 });
      // Without --skip-token-print kubeadm prints the token, which rootlet must never let it do.
      const printed = await h.exec(node, ['kubeadm', 'init', '--config', INIT_FILE]);
      expect(printed.exitCode).toBe(0);
      expect(printed.stdout).toMatch(/\[bootstrap-token\] Using token: [a-z0-9]{6}\.[a-z0-9]{16}\n/);
      expect(printed.stdout).toMatch(/kubeadm join \S+ --token [a-z0-9]{6}\.[a-z0-9]{16} \\\n\t--discovery-token-ca-cert-hash sha256:[0-9a-f]{64}/);
    });
  });

  // What the stand-in ctr refuses as containerd does: a broken archive stores nothing and leaves no files behind.
  describe(`stand-in ctr on rootless ${kinds[0]} refuses`, () => {
    const h = harness(kinds[0]!);
    const node = `${run}x-control-plane`;
    const ctrImport = async (archive: Buffer, snapshotter = 'overlayfs') =>
      h.engine.exec(node, ['ctr', '-n', 'k8s.io', ...IMPORT, `--snapshotter=${snapshotter}`, '-'], { stdin: archive });
    const stored = async () => (await h.exec(node, ['ctr', '-n', 'k8s.io', 'images', 'ls', '-q'])).stdout;
    const one: ArchiveImage[] = [{ tags: ['localhost/app:1'], layer: 'app' }];

    beforeAll(async () => {
      await h.cluster(`${run}x`, [['control-plane', 'control-plane']]);
    }, 120_000);

    const broken: Array<[string, () => Promise<Buffer>, RegExp]> = [
      [
        'a config whose content is not the digest its name says',
        async () =>
          (
            await dockerArchive(one, (entries) => {
              entries[0] = { name: (entries[0] as { name: string }).name, content: '{"architecture":"amd64","os":"linux"}' };
            })
          ).archive,
        /^ctr: stand-in: config "[0-9a-f]{64}\.json" has digest sha256:[0-9a-f]{64}, not the one its name says: a corrupted archive/,
      ],
      [
        'a layer manifest.json lists but the archive lacks',
        async () => (await dockerArchive(one, (entries) => entries.splice(1, 1))).archive,
        /^ctr: failed to resolve layers: layer "[0-9a-f]{64}\/layer\.tar" not found\n$/,
      ],
      [
        'a config manifest.json lists but the archive lacks',
        async () => (await dockerArchive(one, (entries) => entries.splice(0, 1))).archive,
        /^ctr: image config "[0-9a-f]{64}\.json" not found\n$/,
      ],
      ['a stream that is no tar', async () => Buffer.from('this is not an image archive\n'.repeat(40)), /^ctr: archive\/tar: invalid tar header\n$/],
      ['a tar cut short', async () => (await dockerArchive(one)).archive.subarray(0, 1536), /^ctr: unexpected EOF\n$/],
      ['a tar without manifest.json', async () => packArchive([{ name: 'hello', content: 'hi' }]), /^ctr: unrecognized image format\n$/],
      [
        'a manifest.json that is no list',
        async () => packArchive([{ name: 'manifest.json', content: '{"Config":"x.json"}' }]),
        /^ctr: untar manifest "manifest\.json": json: cannot unmarshal object into Go value of type \[\]struct \{ Config string; RepoTags \[\]string; Layers \[\]string \}\n$/,
      ],
      [
        'a layer that is no tar',
        async () =>
          (
            await dockerArchive(one, (entries) => {
              entries[1] = { name: (entries[1] as { name: string }).name, content: 'no tar here\n'.repeat(100) };
            })
          ).archive,
        /^ctr: failed to extract layer \(application\/vnd\.docker\.image\.rootfs\.diff\.tar sha256:[0-9a-f]{64}\) to overlayfs as "extract-\d+-\S{4} sha256:[0-9a-f]{64}": archive\/tar: invalid tar header\n$/,
      ],
      [
        'a layer whose digest is not the config’s diff id',
        async () =>
          (
            await dockerArchive(one, (entries) => {
              const layer = entries[1] as { name: string; content: Uint8Array };
              entries[1] = { name: layer.name, content: Buffer.concat([layer.content.subarray(0, 1024), Buffer.alloc(2048)]) };
            })
          ).archive,
        /^ctr: wrong diff id "sha256:[0-9a-f]{64}" calculated on extraction "sha256:[0-9a-f]{64}", desc "sha256:[0-9a-f]{64}"\n$/,
      ],
      [
        'a name containerd cannot normalise',
        async () => (await dockerArchive([{ tags: ['localhost/App:1'], layer: 'app' }])).archive,
        /^ctr: normalize image ref "localhost\/App:1": invalid reference format: repository name \(App\) must be lowercase\n$/,
      ],
    ];

    it.each(broken)('%s', async (_what, archive, message) => {
      const before = await stored();
      const result = await ctrImport(await archive());
      expect(result.stderr).toMatch(message);
      expect(result).toMatchObject({ exitCode: 1, stdout: '' });
      expect(await stored()).toBe(before);
      expect((await h.exec(node, ['ls', '/var/lib/standin'])).stdout).not.toContain('import.');
    });

    it('a snapshotter other than the CRI’s, which follows /etc/standin/snapshotter', async () => {
      const { archive } = await dockerArchive(one);
      const native = await ctrImport(archive, 'native');
      expect(native.exitCode).toBe(1);
      expect(native.stderr).toContain('ctr: stand-in: --snapshotter=native is not the CRI\'s snapshotter "overlayfs" (containerd config dump)');
      await h.exec(node, ['sh', '-c', 'mkdir -p /etc/standin && echo fuse-overlayfs >/etc/standin/snapshotter']);
      try {
        expect((await h.exec(node, ['containerd', 'config', 'dump'])).stdout).toMatch(
          /^ {2}\[plugins\.'io\.containerd\.cri\.v1\.images'\]\n {4}snapshotter = 'fuse-overlayfs'\n/m,
        );
        expect((await ctrImport(archive)).exitCode).toBe(1);
        const fuse = await ctrImport(archive, 'fuse-overlayfs');
        expect(fuse.exitCode, fuse.stderr).toBe(0);
        expect((await h.exec(node, ['tail', '-n', '1', '/var/lib/standin/images.log'])).stdout).toMatch(/ snapshotter=fuse-overlayfs bytes=\d+\n$/);
      } finally {
        await h.exec(node, ['rm', '-f', '/etc/standin/snapshotter']);
      }
    });

    it('unknown flags, other namespaces and commands it does not model', async () => {
      const unmodelled: string[][] = [
        ['ctr', '-n', 'k8s.io', ...IMPORT, '--snapshotter=overlayfs', '--local', '-'],
        ['ctr', '-n', 'k8s.io', 'images', 'import', '--snapshotter=overlayfs', '-'],
        ['ctr', '-n', 'k8s.io', ...IMPORT, '--snapshotter=overlayfs', 'image.tar'],
        ['ctr', 'images', 'ls', '-q'],
        ['ctr', '-n', 'k8s.io', 'images', 'rm', 'localhost/app:1'],
        ['crictl', 'rmi', 'localhost/app:1'],
        ['crictl', 'inspecti', '-o', 'yaml', 'localhost/app:1'],
        ['containerd', 'config', 'default'],
      ];
      for (const argv of unmodelled) {
        // No stdin: they exit before reading it (Podman's exec reports a reset connection when a stream goes unread).
        const result = await h.exec(node, argv);
        expect(result.exitCode, argv.join(' ')).toBe(2);
        expect(result.stderr).toMatch(new RegExp(`^stand-in: unexpected command: ${argv[0]} `));
      }
    });
  });

  describe(`behaviour switches of the stand-in's cluster name on rootless ${kinds[0]}`, () => {
    const h = harness(kinds[0]!);
    it('standin-initfail: init fails waiting for the control plane', async () => {
      const settings = await h.cluster(`standin-initfail-${run}`, [['control-plane', 'control-plane']]);
      const cp = `${settings.name}-control-plane`;
      const spec: KubeClusterSpec = { name: settings.name, kubernetesVersion: 'v1.37.0', nodes: [{ name: cp, role: 'control-plane' }] };
      const result = await h.init(cp, renderInitConfig(spec, spec.nodes[0]!, { bootstrapToken: newBootstrapToken() }));
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/error execution phase wait-control-plane: .*\[wait-control-plane\].*timed out/);
    });

    it('standin-notready and standin-joinfail: nodes never Ready, joins fail', async () => {
      const notReady = await h.cluster(`standin-notready-${run}`, [['control-plane', 'control-plane']]);
      const joinFail = await h.cluster(`standin-joinfail-${run}`, [
        ['control-plane', 'control-plane'],
        ['worker', 'worker'],
      ]);
      const cpOf = (settings: ClusterSettings) => `${settings.name}-control-plane`;
      const specOf = (settings: ClusterSettings, workers: string[]): KubeClusterSpec => ({
        name: settings.name,
        kubernetesVersion: 'v1.37.0',
        nodes: [{ name: cpOf(settings), role: 'control-plane' }, ...workers.map((worker) => ({ name: worker, role: 'worker' as const }))],
      });
      const notReadySpec = specOf(notReady, []);
      const joinFailSpec = specOf(joinFail, [`${joinFail.name}-worker`]);
      for (const spec of [notReadySpec, joinFailSpec]) {
        const result = await h.init(spec.nodes[0]!.name, renderInitConfig(spec, spec.nodes[0]!, { bootstrapToken: newBootstrapToken() }));
        expect(result.exitCode, result.stderr).toBe(0);
      }

      const token = (await h.exec(cpOf(joinFail), ['kubeadm', 'token', 'create', '--ttl', '15m'])).stdout.trim();
      const joined = await h.join(
        `${joinFail.name}-worker`,
        renderJoinConfig(joinFailSpec, joinFailSpec.nodes[1]!, { bootstrapToken: token, caCertHash: CA_HASH }),
      );
      expect(joined.exitCode).toBe(1);
      expect(joined.stderr).toContain('error execution phase kubelet-start');

      expect((await h.exec(cpOf(notReady), ['kubectl', 'apply', '-f', '-'], CNI_MANIFEST)).exitCode).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const nodes = await h.kubectlJson<NodeList>(cpOf(notReady), ['get', 'nodes']);
      expect(ready(nodes.items[0]!.status.conditions)).toBe('False');
      const pods = await h.kubectlJson<PodList>(cpOf(notReady), ['get', 'pods', '-A']);
      const cni = pods.items.filter((pod) => pod.metadata.ownerReferences[0]?.name === 'st-cni-ds');
      expect(cni).toHaveLength(1);
      expect(ready(cni[0]!.status.conditions)).toBe('False');
      const events = await h.kubectlJson<EventList>(cpOf(notReady), ['get', 'events', '-A']);
      expect(events.items.map((event) => event.reason)).toEqual(expect.arrayContaining(['NodeNotReady', 'BackOff', 'FailedScheduling']));
    });
  });

  // A worker of another host as rootlet joins it: tainted until rootlet has set its addresses, drained and deleted when
  // it leaves, its name free to join again. Checked on one engine: nothing here depends on it.
  describe(`a worker joined from another host on rootless ${kinds[0]}`, () => {
    const h = harness(kinds[0]!);
    const name = `${run}r`;
    const cp = `${name}-control-plane`;
    const local = `${name}-worker`;
    const remote = `${name}-worker2`;
    const UNCONFIGURED = { key: 'rootlet.dev/unconfigured', effect: 'NoExecute' };
    const UNINITIALIZED = { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' };
    const NOT_READY = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
    const ADDRESSES = [
      { type: 'ExternalIP', address: '10.77.0.2' },
      { type: 'Hostname', address: remote },
    ];
    const PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip-overwrite';
    /** A DaemonSet that tolerates no taint at all. */
    const PLAIN_DS = CNI_MANIFEST.replaceAll('st-cni', 'st-plain').replace('      tolerations:\n      - operator: Exists\n        effect: NoSchedule\n', '');
    let spec: KubeClusterSpec;
    let token: string;

    const kubectl = async (...argv: string[]) => h.exec(cp, ['kubectl', ...argv]);
    const patchAddresses = async (node: string, addresses: unknown, ...flags: string[]) =>
      kubectl('patch', 'node', node, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses } }), ...flags);
    const nodeNamed = async (node: string) => (await h.kubectlJson<NodeList>(cp, ['get', 'nodes'])).items.find((item) => item.metadata.name === node);
    const podsOn = async (node: string) => (await h.kubectlJson<PodList>(cp, ['get', 'pods', '-A'])).items.filter((pod) => pod.spec.nodeName === node);
    const owners = (pods: PodList['items']) => pods.map((pod) => pod.metadata.ownerReferences[0]!.name).sort();
    const joinConfig = (node: string, bootstrapToken: string) =>
      renderJoinConfig(
        spec,
        spec.nodes.find((candidate) => candidate.name === node)!,
        { bootstrapToken, caCertHash: CA_HASH },
      );
    /** rootlet's JoinConfiguration for a node of another host: its taint, and the kubelet of an external cloud provider. */
    const remoteJoinConfig = (node: string, bootstrapToken: string, cloudProvider = 'external', nodeIp?: string) => {
      const join = parse(joinConfig(node, bootstrapToken), { version: '1.1' }) as {
        nodeRegistration: { taints?: unknown[]; kubeletExtraArgs?: Array<{ name: string; value: string }> };
      };
      join.nodeRegistration.kubeletExtraArgs = [
        ...(join.nodeRegistration.kubeletExtraArgs ?? []).filter((arg) => arg.name !== 'cloud-provider'),
        { name: 'cloud-provider', value: cloudProvider },
        ...(nodeIp === undefined ? [] : [{ name: 'node-ip', value: nodeIp }]),
      ];
      join.nodeRegistration.taints = [UNCONFIGURED];
      return stringify(join, { version: '1.1' });
    };

    beforeAll(async () => {
      await h.cluster(name, [
        ['control-plane', 'control-plane'],
        ['worker', 'worker'],
        ['worker2', 'worker'],
      ]);
      spec = {
        name,
        kubernetesVersion: 'v1.37.0',
        nodes: [
          { name: cp, role: 'control-plane' },
          { name: local, role: 'worker' },
          { name: remote, role: 'worker', labels: { 'rootlet.dev/host': 'remote1' } },
        ],
      };
      expect((await h.init(cp, renderInitConfig(spec, spec.nodes[0]!, { bootstrapToken: newBootstrapToken() }))).exitCode).toBe(0);
      token = (await h.exec(cp, ['kubeadm', 'token', 'create', '--ttl', '15m'])).stdout.trim();
      const joined = await h.join(local, joinConfig(local, token));
      expect(joined.exitCode, joined.stderr).toBe(0);
      // rootlet's flannel: its DaemonSet tolerates every NoSchedule taint, and no NoExecute one.
      const applied = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], renderFlannelManifest({ podSubnet: DEFAULT_POD_SUBNET }));
      expect(applied.exitCode, applied.stderr).toBe(0);
      await until(
        'the local nodes Ready',
        async () => h.kubectlJson<NodeList>(cp, ['get', 'nodes']),
        (list) => list.items.every((node) => ready(node.status.conditions) === 'True'),
      );
    }, 180_000);

    it('register it with its taint, as the kubelet of an external cloud provider: no addresses, the uninitialized taint', async () => {
      const aws = await h.join(remote, remoteJoinConfig(remote, token, 'aws'));
      expect(aws).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('stand-in: unexpected command: kubeadm join') as unknown });

      const joined = await h.join(remote, remoteJoinConfig(remote, token));
      expect(joined.exitCode, joined.stderr).toBe(0);
      const flags = (await h.engine.copyOut(remote, '/var/lib/kubelet/kubeadm-flags.env')).toString();
      expect(flags).toContain(' --register-with-taints=rootlet.dev/unconfigured:NoExecute ');
      expect(flags).toContain(' --cloud-provider=external');

      const node = (await nodeNamed(remote))!;
      expect(node.spec.taints).toEqual([UNCONFIGURED, UNINITIALIZED, NOT_READY]);
      expect(node.status.addresses).toBeUndefined();
      expect(node.metadata.labels).toMatchObject({ 'rootlet.dev/host': 'remote1', 'kubernetes.io/hostname': remote });
      expect(node.metadata.annotations).toEqual({
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      });
      // Without --cloud-provider=external the kubelet sets the addresses itself, and no cloud taint.
      const plain = (await nodeNamed(local))!;
      expect(plain.status.addresses).toEqual([
        { type: 'InternalIP', address: (await h.engine.inspectNode(local))!.address },
        { type: 'Hostname', address: local },
      ]);
      expect(plain.spec.taints).toBeUndefined();
    });

    it('keep it NotReady while the CNI DaemonSet cannot run there, and make it Ready 2 s after the taint goes', async () => {
      // flannel was applied before the node joined, more than 2 s ago: its pods run everywhere but on this node.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const before = (await nodeNamed(remote))!;
      expect(before.status.conditions.find((condition) => condition.type === 'Ready')).toMatchObject({
        status: 'False',
        message: expect.stringContaining('cni plugin not initialized') as unknown,
      });
      expect(owners(await podsOn(remote))).toEqual(['kube-proxy']);
      expect(owners(await podsOn(local))).toContain(FLANNEL_DAEMONSET);

      // A DaemonSet that tolerates nothing runs on the untainted worker only (the control plane has its taint).
      expect((await h.exec(cp, ['kubectl', 'apply', '-f', '-'], PLAIN_DS)).exitCode).toBe(0);
      const plainNodes = async () =>
        (await h.kubectlJson<PodList>(cp, ['get', 'pods', '-A'])).items
          .filter((pod) => pod.metadata.ownerReferences[0]!.name === 'st-plain-ds')
          .map((pod) => pod.spec.nodeName);
      expect(await plainNodes()).toEqual([local]);
      const invalid = await h.exec(cp, ['kubectl', 'apply', '-f', '-'], CNI_MANIFEST.replace('      - operator: Exists\n', '      - operator: Equal\n'));
      expect(invalid).toMatchObject({
        exitCode: 1,
        stderr:
          'The DaemonSet "st-cni-ds" is invalid: spec.template.spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"\n',
      });

      const removing = Date.now();
      expect(await kubectl('taint', 'node', remote, 'rootlet.dev/unconfigured:NoExecute-')).toEqual({
        exitCode: 0,
        stdout: `node/${remote} untainted\n`,
        stderr: '',
      });
      const after = await until(
        'the node Ready',
        async () => nodeNamed(remote),
        (node) => ready(node!.status.conditions) === 'True',
        8000,
      );
      // 2 s in whole seconds of the node's clock (the host's): Ready neither before 1 s has passed nor long after 2 s.
      const delay = Date.now() - removing;
      expect(delay).toBeGreaterThan(1000);
      expect(delay).toBeLessThan(5000);
      expect(after!.spec.taints).toEqual([UNINITIALIZED]);
      await until(
        'a flannel pod on the node',
        async () => podsOn(remote),
        (pods) => owners(pods).includes(FLANNEL_DAEMONSET),
      );
      // Not the DaemonSet that tolerates nothing: the cloud provider's NoSchedule taint is still there.
      expect(await plainNodes()).toEqual([local]);

      expect(await kubectl('taint', 'node', remote, 'rootlet.dev/unconfigured:NoExecute-')).toEqual({
        exitCode: 1,
        stdout: '',
        stderr: 'error: taint "rootlet.dev/unconfigured:NoExecute" not found\n',
      });
      expect(await kubectl('taint', 'node', remote, 'rootlet.dev/unconfigured:NoExecute-', 'other-')).toMatchObject({
        exitCode: 1,
        stderr: 'error: [taint "rootlet.dev/unconfigured:NoExecute" not found, taint "other" not found]\n',
      });
      expect(await kubectl('taint', 'node', remote, 'x:NoWay-')).toMatchObject({
        exitCode: 1,
        stderr: "error: invalid taint effect: NoWay, unsupported taint effect\nSee 'kubectl taint -h' for help and examples\n",
      });
      expect(await kubectl('taint', 'node', `${name}-nowhere`, 'x:NoSchedule-')).toMatchObject({
        exitCode: 1,
        stderr: `Error from server (NotFound): nodes "${name}-nowhere" not found\n`,
      });
      expect((await kubectl('taint', 'node', remote, 'x=y:NoSchedule')).exitCode).toBe(2);
      expect((await nodeNamed(remote))!.spec.taints).toEqual([UNINITIALIZED]);
    });

    it('patch its addresses and annotate it, as rootlet configures a node of another host', async () => {
      expect(await patchAddresses(remote, ADDRESSES)).toEqual({ exitCode: 0, stdout: `node/${remote} patched\n`, stderr: '' });
      expect((await nodeNamed(remote))!.status.addresses).toEqual(ADDRESSES);
      expect(await patchAddresses(remote, ADDRESSES)).toMatchObject({ exitCode: 0, stdout: `node/${remote} patched (no change)\n` });
      // The pods' hostIP follows: no InternalIP, so the ExternalIP.
      expect((await podsOn(remote)).map((pod) => pod.status.hostIP)).toEqual(expect.arrayContaining(['10.77.0.2']));

      const truncated = JSON.stringify({ status: { addresses: ADDRESSES } }).slice(0, 40);
      const malformed = await kubectl('patch', 'node', remote, '--subresource=status', '--type=merge', '-p', truncated);
      expect(malformed).toEqual({ exitCode: 1, stdout: '', stderr: 'Error from server (BadRequest): error decoding patch: unexpected end of JSON input\n' });
      const trailingComma = await kubectl('patch', 'node', remote, '--subresource=status', '--type=merge', '-p', '{"status":{"addresses":[],}}');
      expect(trailingComma.stderr).toBe(
        "Error from server (BadRequest): error decoding patch: invalid character '}' looking for beginning of object key string\n",
      );
      for (const refused of [
        await patchAddresses(remote, [{ type: 'PublicIP', address: '10.77.0.2' }]),
        await patchAddresses(remote, []),
        await kubectl('patch', 'node', remote, '--subresource=status', '--type=merge', '-p', '{"spec":{"unschedulable":true}}'),
        await kubectl('patch', 'node', remote, '--type=merge', '-p', JSON.stringify({ status: { addresses: ADDRESSES } })),
        await kubectl('patch', 'node', remote, '--subresource=status', '--type=json', '-p', '[]'),
      ])
        expect(refused).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('stand-in: unexpected command: kubectl patch') as unknown });
      expect(await kubectl('patch', 'node', remote, '--subresource=status', '--type=bogus', '-p', '{}')).toMatchObject({
        exitCode: 1,
        stderr: 'error: --type must be one of [json merge strategic], not "bogus"\n',
      });
      expect(await patchAddresses(`${name}-nowhere`, ADDRESSES)).toMatchObject({
        exitCode: 1,
        stderr: `Error from server (NotFound): nodes "${name}-nowhere" not found\n`,
      });
      expect((await nodeNamed(remote))!.status.addresses).toEqual(ADDRESSES);

      expect(await kubectl('annotate', 'node', remote, `${PUBLIC_IP}=10.77.0.2`, '--overwrite')).toEqual({
        exitCode: 0,
        stdout: `node/${remote} annotated\n`,
        stderr: '',
      });
      // Without --overwrite the same value is no change, another one is refused.
      expect(await kubectl('annotate', 'node', remote, `${PUBLIC_IP}=10.77.0.2`)).toMatchObject({ exitCode: 0, stdout: `node/${remote} annotated\n` });
      expect(await kubectl('annotate', 'node', remote, `${PUBLIC_IP}=10.77.0.9`)).toEqual({
        exitCode: 1,
        stdout: '',
        stderr: `error: --overwrite is false but found the following declared annotation(s): '${PUBLIC_IP}' already has a value (10.77.0.2)\n`,
      });
      expect((await nodeNamed(remote))!.metadata.annotations).toMatchObject({ [PUBLIC_IP]: '10.77.0.2', 'node.alpha.kubernetes.io/ttl': '0' });
      expect(await kubectl('annotate', 'node', remote, `${PUBLIC_IP}=10.77.0.9`, '--overwrite')).toMatchObject({ exitCode: 0 });
      expect((await nodeNamed(remote))!.metadata.annotations[PUBLIC_IP]).toBe('10.77.0.9');
      expect(await kubectl('annotate', 'node', `${name}-nowhere`, `${PUBLIC_IP}=x`, '--overwrite')).toMatchObject({
        exitCode: 1,
        stderr: `Error from server (NotFound): nodes "${name}-nowhere" not found\n`,
      });

      // The cloud provider's taint goes last: then even a DaemonSet that tolerates nothing runs there.
      expect(await kubectl('taint', 'node', remote, 'node.cloudprovider.kubernetes.io/uninitialized:NoSchedule-')).toMatchObject({
        exitCode: 0,
        stdout: `node/${remote} untainted\n`,
      });
      expect((await nodeNamed(remote))!.spec.taints).toBeUndefined();
      await until(
        'the plain DaemonSet on the node',
        async () => podsOn(remote),
        (pods) => owners(pods).includes('st-plain-ds'),
      );
    });

    it('drain it (CoreDNS moves) and delete it, as kubectl does', async () => {
      const drained = await kubectl('drain', remote, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=60s');
      expect(drained.exitCode, drained.stderr).toBe(0);
      expect(drained.stdout).toBe(`node/${remote} cordoned\nnode/${remote} drained\n`);
      expect(drained.stderr).toMatch(
        /^Warning: ignoring DaemonSet-managed Pods: kube-flannel\/kube-flannel-ds-\w+, kube-system\/kube-proxy-\w+, st-plain\/st-plain-ds-\w+\n$/,
      );
      const cordoned = (await nodeNamed(remote))!;
      expect(cordoned.spec.unschedulable).toBe(true);
      expect(cordoned.spec.taints).toEqual([{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]);
      // DaemonSet pods stay.
      expect(owners(await podsOn(remote))).toEqual([FLANNEL_DAEMONSET, 'kube-proxy', 'st-plain-ds']);

      // The local worker runs a CoreDNS pod: drained, it is evicted and runs on the control plane.
      const corednsOf = async (node: string) => (await podsOn(node)).filter((pod) => pod.metadata.labels['k8s-app'] === 'kube-dns');
      const evicted = (await corednsOf(local)).map((pod) => pod.metadata.name);
      expect(evicted).toHaveLength(1);
      const withoutFlag = await kubectl('drain', local, '--delete-emptydir-data', '--force', '--timeout=60s');
      expect(withoutFlag.exitCode).toBe(1);
      expect(withoutFlag.stdout).toBe(`node/${local} cordoned\n`);
      expect(withoutFlag.stderr).toMatch(/cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): /);
      const drainedLocal = await kubectl('drain', local, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=60s');
      expect(drainedLocal).toMatchObject({
        exitCode: 0,
        stdout: `node/${local} already cordoned\nevicting pod kube-system/${evicted[0]}\npod/${evicted[0]} evicted\nnode/${local} drained\n`,
      });
      expect(await corednsOf(local)).toEqual([]);
      expect(await corednsOf(cp)).toHaveLength(2);

      expect(await kubectl('delete', 'node', remote)).toEqual({ exitCode: 0, stdout: `node "${remote}" deleted\n`, stderr: '' });
      expect(await nodeNamed(remote)).toBeUndefined();
      expect(await podsOn(remote)).toEqual([]);
      expect(await kubectl('delete', 'node', remote)).toEqual({
        exitCode: 1,
        stdout: '',
        stderr: `Error from server (NotFound): nodes "${remote}" not found\n`,
      });
      expect(await kubectl('delete', 'node', remote, '--ignore-not-found')).toEqual({ exitCode: 0, stdout: '', stderr: '' });
      expect((await kubectl('delete', 'pod', 'x')).exitCode).toBe(2);
    });

    it('delete a bootstrap token by its id, which then joins nothing; a fresh node joins under the deleted name', async () => {
      const fresh = (await h.exec(cp, ['kubeadm', 'token', 'create', '--ttl', '15m'])).stdout.trim();
      const id = fresh.split('.')[0]!;
      expect(await h.exec(cp, ['kubeadm', 'token', 'delete', id])).toEqual({ exitCode: 0, stdout: `bootstrap token "${id}" deleted\n`, stderr: '' });
      expect(await h.exec(cp, ['kubeadm', 'token', 'delete', id])).toEqual({
        exitCode: 1,
        stdout: '',
        stderr: `failed to delete bootstrap token "${id}": secrets "bootstrap-token-${id}" not found\nTo see the stack trace of this error execute with --v=5 or higher\n`,
      });
      const whole = await h.exec(cp, ['kubeadm', 'token', 'delete', token]);
      expect(whole.exitCode).toBe(2);
      expect(whole.stderr).toContain('stand-in: token in argv');
      expect(whole.stderr).not.toContain(token);
      expect(await h.exec(cp, ['kubeadm', 'token', 'delete', 'ABCDEF'])).toMatchObject({
        exitCode: 1,
        stderr: expect.stringMatching(/^given token "ABCDEF" didn't match pattern "\\\\A\(\[a-z0-9\]\{6\}\)\\\\z"/) as unknown,
      });
      expect((await h.exec(cp, ['kubeadm', 'token', 'delete'])).stderr).toMatch(/^missing subcommand; 'token delete' is missing token of form/);

      await h.recreate(remote);
      const short = (config: string) => config.replace(/^( {2}discovery: ).*$/m, '$1' + '2s');
      const deleted = await h.join(remote, short(remoteJoinConfig(remote, fresh)));
      expect(deleted.exitCode).toBe(1);
      expect(deleted.stderr).toContain(`could not find a JWS signature in the cluster-info ConfigMap for token ID "${id}"`);
      expect(deleted.stderr).not.toContain(fresh);

      // This time with --node-ip: the kubelet of an external cloud provider then sets that address, and says so.
      const again = await h.join(remote, remoteJoinConfig(remote, token, 'external', '10.77.0.3'));
      expect(again.exitCode, again.stderr).toBe(0);
      const node = (await nodeNamed(remote))!;
      // A new Node: its taints and annotations as registered, nothing left of the deleted one.
      expect(node.spec.taints).toEqual([UNCONFIGURED, UNINITIALIZED, NOT_READY]);
      expect(node.spec.unschedulable).toBeUndefined();
      expect(node.status.addresses).toEqual([
        { type: 'InternalIP', address: '10.77.0.3' },
        { type: 'Hostname', address: remote },
      ]);
      expect(node.metadata.annotations[PUBLIC_IP]).toBeUndefined();
      expect(node.metadata.annotations['alpha.kubernetes.io/provided-node-ip']).toBe('10.77.0.3');
    });
  });
}

/** The scheduling rules above, case by case: the stand-in's kubectl-get.awk run by the host busybox on a made-up state. */
describe('the stand-in scheduling model (test/node-image/lib/kubectl-get.awk, run by the host busybox)', () => {
  const registered = 1_700_000_000;
  /** Pods of DaemonSet `ds` on node `n1` (registered with `taints`, 10 s ago), and whether the node is Ready. */
  function schedule(taints: string, tolerations: string): { placed: boolean; ready: boolean } {
    const state = [
      'C\tclusterName\tmodel',
      'C\tpodSubnet\t10.244.0.0/16',
      'C\tkubernetesVersion\tv1.37.0',
      'C\tproxyDisabled\ttrue',
      'C\tdnsDisabled\ttrue',
      `NODE\tn1\tworker\t10.0.0.2\t${registered}\t\t\t\t\t`,
      `TAINTS\tn1\t${registered}\t${taints}`,
      `DS\tns\tds\t${registered}\tapp=x\tc\timg\t${tolerations}\ttrue`,
    ].join('\n');
    const run = (what: string) =>
      JSON.parse(
        execFileSync(
          '/bin/busybox',
          ['awk', '-v', `what=${what}`, '-v', `now=${registered + 10}`, '-v', 'kernel=6', '-f', path.join(NODE_IMAGE, 'lib/kubectl-get.awk')],
          { input: `${state}\n`, encoding: 'utf8' },
        ),
      ) as { items: Array<{ spec: { nodeName?: string }; status: { conditions: Array<{ type: string; status: string }> } }> };
    return {
      placed: run('pods').items.some((pod) => pod.spec.nodeName === 'n1'),
      ready: ready(run('nodes').items[0]!.status.conditions) === 'True',
    };
  }

  const cases: Array<[string, string, string, boolean]> = [
    ['no toleration, no taint: not on a NotReady node', '', '', false],
    ['everything tolerated, a NoExecute taint', 'rootlet.dev/unconfigured=:NoExecute', 'Exists|||', true],
    ['flannel’s tolerations, a NoExecute taint', 'rootlet.dev/unconfigured=:NoExecute', 'Exists|||NoSchedule', false],
    ['flannel’s tolerations, NoSchedule taints', 'node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule', 'Exists|||NoSchedule', true],
    ['the key tolerated with its effect', 'rootlet.dev/unconfigured=:NoExecute', 'Exists|rootlet.dev/unconfigured||NoExecute;Exists|||NoSchedule', true],
    ['the key tolerated with another effect', 'rootlet.dev/unconfigured=:NoExecute', 'Exists|rootlet.dev/unconfigured||NoSchedule;Exists|||NoSchedule', false],
    ['Equal with the value', 'dedicated=gpu:NoSchedule', 'Equal|dedicated|gpu|NoSchedule;Exists|node.kubernetes.io/not-ready||', true],
    ['Equal with another value', 'dedicated=cpu:NoSchedule', 'Equal|dedicated|gpu|NoSchedule;Exists|node.kubernetes.io/not-ready||', false],
    ['a PreferNoSchedule taint keeps nothing off', 'soft=:PreferNoSchedule', 'Exists|node.kubernetes.io/not-ready||NoSchedule', true],
  ];
  it.each(cases)('%s', (_what, taints, tolerations, runs) => {
    // A DaemonSet whose pods can run on the NotReady node is its CNI: the node gets Ready with them.
    expect(schedule(taints, tolerations)).toEqual({ placed: runs, ready: runs });
  });
});

/** The YAML every check above rests on: the stand-in's awk reader against the yaml package, on rootlet's own output. */
describe('the stand-in YAML reader (test/node-image/lib/yaml.awk, run by the host busybox)', () => {
  const golden = path.resolve(import.meta.dirname, '../golden/kube');
  const TRICKY = `# comments, quoting, multi-line scalars and flow collections as manifests write them
a: 1
b:
  c: "x: y" # a comment
  d: 'it''s'
  e:
  - p
  - q: r
    s: [1, "two", {x: z}]
  f: {}
list:
- name: one
  value: "4"
- - nested
  - n2
text: |
  line one
    indented

  line three
folded: >-
  a
  b
multi: this is
  continued here
quoted: "spans
  lines"
"nodefs.available": 0%
empty:
last: ~
---
kind: X
`;

  /** path -> scalar text (null for null) of the awk reader's records, one map per document. */
  function awkLeaves(text: string): Array<Map<string, string | null>> {
    const out = execFileSync('/bin/busybox', ['awk', '-f', path.join(NODE_IMAGE, 'lib/yaml.awk')], { input: text, encoding: 'utf8' });
    const docs: Array<Map<string, string | null>> = [];
    for (const line of out.split('\n').filter(Boolean)) {
      const [record, key = '', type, value = ''] = line.split('\t');
      if (record === 'E') throw new Error(`yaml.awk: ${line}`);
      if (record === 'D') docs.push(new Map());
      else if (type !== 'map' && type !== 'seq')
        docs
          .at(-1)!
          .set(
            key.replaceAll('\x1f', '.'),
            type === 'null' ? null : value.replace(/\\(n|t|\\)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\')),
          );
    }
    return docs;
  }

  function jsLeaves(value: unknown, prefix = '', leaves = new Map<string, string | null>()): Map<string, string | null> {
    if (Array.isArray(value)) value.forEach((item, index) => jsLeaves(item, `${prefix}${prefix ? '.' : ''}[${index}]`, leaves));
    else if (value !== null && typeof value === 'object')
      for (const [key, item] of Object.entries(value)) jsLeaves(item, `${prefix}${prefix ? '.' : ''}${key}`, leaves);
    else leaves.set(prefix, value === null ? null : `${value as string | number | boolean}`);
    return leaves;
  }

  const cases: Array<[string, string]> = [
    ...readdirSync(golden)
      .filter((file) => file.endsWith('.yaml'))
      .map((file): [string, string] => [file, readFileSync(path.join(golden, file), 'utf8')]),
    ['multi-line, quoted and flow scalars', TRICKY],
  ];
  it.each(cases)('reads %s as the yaml package does', (_name, text) => {
    const expected = parseAllDocuments(text, { version: '1.1' })
      .filter((doc) => doc.contents !== null)
      .map((doc) => [...jsLeaves(doc.toJS())].filter(([, value]) => value !== undefined));
    // Empty collections are no leaves for the yaml side; the awk side reports them as map/seq records.
    expect(awkLeaves(text).map((doc) => [...doc])).toEqual(expected);
  });
});
