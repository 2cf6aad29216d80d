import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Document, parseAllDocuments } from 'yaml';
import { ExitCode, RootletError } from '../../src/errors.js';
import { applyKubeadmPatches, kubeadmPatchesFor, kubeadmPatchRefusal, type KubeadmPatch } from '../../src/kube/kubeadm-patches.js';

/** The renderers' golden output is the input here: what applyKubeadmPatches gets in `rootlet up`. */
const golden = (name: string) => readFileSync(new URL(`../golden/kube/${name}`, import.meta.url), 'utf8');
const INIT = golden('init.control-plane-two-workers.yaml');
const SINGLE = golden('init.single-control-plane.yaml');
const JOIN = golden('join.worker.yaml');

type Json = Record<string, unknown>;

/** Parsed with YAML 1.1 rules, as kubeadm's go-yaml reads it; a stream that does not parse cleanly fails the test. */
function parse(text: string): Json[] {
  return Array.from(parseAllDocuments(text, { version: '1.1' }), (document) => {
    expect(document.errors).toEqual([]);
    return document.toJS() as Json;
  });
}

function byKind(text: string, kind: string): Json {
  const found = parse(text).find((document) => document.kind === kind);
  if (!found) throw new Error(`no ${kind}`);
  return found;
}

/** The stream's documents as text, separated as yamlStream separates them. */
const documents = (text: string) => text.split(/^---\n/m);

function refused(run: () => unknown): RootletError {
  try {
    run();
  } catch (error) {
    if (error instanceof RootletError) return error;
    throw error;
  }
  throw new Error('expected a RootletError');
}

describe('applyKubeadmPatches', () => {
  it('returns the stream unchanged without patches', () => {
    expect(applyKubeadmPatches(INIT, [])).toBe(INIT);
  });

  it('re-renders untouched documents byte for byte, comments included', () => {
    // A patch that sets what is already there changes nothing anywhere.
    for (const stream of [INIT, SINGLE]) expect(applyKubeadmPatches(stream, [{ kind: 'KubeletConfiguration', patch: { failSwapOn: false } }])).toBe(stream);
    expect(applyKubeadmPatches(JOIN, [{ kind: 'JoinConfiguration', patch: { skipPhases: ['preflight'] } }])).toBe(JOIN);
  });

  it('merges objects, deletes on null and adds new keys, leaving the other documents alone', () => {
    const patched = applyKubeadmPatches(INIT, [
      {
        kind: 'KubeletConfiguration',
        patch: { maxPods: 50, failSwapOn: null, evictionHard: { 'nodefs.available': '10%', 'imagefs.available': null }, featureGates: { SomeGate: true } },
      },
    ]);
    const kubelet = byKind(patched, 'KubeletConfiguration');
    expect(kubelet.maxPods).toBe(50);
    expect(kubelet).not.toHaveProperty('failSwapOn');
    expect(kubelet.evictionHard).toEqual({ 'nodefs.available': '10%', 'nodefs.inodesFree': '0%' });
    expect(kubelet.featureGates).toEqual({
      InPlacePodVerticalScaling: true,
      KubeletInUserNamespace: true,
      SidecarContainers: false,
      UserNamespacesSupport: true,
      SomeGate: true,
    });
    expect(kubelet.cgroupRoot).toBe('/kubelet');
    const [init, cluster, kubeletText, proxy] = documents(patched);
    const [initBefore, clusterBefore, , proxyBefore] = documents(INIT);
    expect([init, cluster, proxy]).toEqual([initBefore, clusterBefore, proxyBefore]);
    // Comments on keys the patch did not remove stay where they were.
    expect(kubeletText).toContain("# Nested in a container: the kubelet must not manage the cgroups above the node's (kind).\ncgroupRoot: /kubelet\n");
    expect(kubeletText).toContain('# KubeletInUserNamespace: ignore the sysctls and /dev/kmsg a user namespace cannot touch.\nfeatureGates:\n');
    expect(kubeletText).toMatch(/\nmaxPods: 50\n$/);
  });

  it('replaces arrays and scalars whole, and objects by non-objects', () => {
    const patched = applyKubeadmPatches(INIT, [
      { kind: 'ClusterConfiguration', patch: { apiServer: { certSANs: ['lab.example.com'] }, networking: 'gone', scheduler: { extraArgs: [] } } },
    ]);
    const cluster = byKind(patched, 'ClusterConfiguration');
    expect((cluster.apiServer as Json).certSANs).toEqual(['lab.example.com']);
    expect((cluster.apiServer as Json).extraArgs).toHaveLength(4);
    expect(cluster.networking).toBe('gone');
    expect(cluster.scheduler).toEqual({ extraArgs: [] });
  });

  it('turns a scalar into an object, dropping the nulls of a new object at every depth', () => {
    const patched = applyKubeadmPatches(SINGLE, [{ kind: 'KubeletConfiguration', patch: { port: { a: 1, b: null, c: { d: null, e: [null] } } } }]);
    expect(byKind(patched, 'KubeletConfiguration').port).toEqual({ a: 1, c: { e: [null] } });
  });

  it('writes what the renderer would: YAML 1.1 quoting, no line folding, no anchors', () => {
    const long = 'x'.repeat(200);
    const shared = { name: 'v', value: '4' };
    const patch = { clusterName: 'on', controlPlaneEndpoint: long, scheduler: { extraArgs: [shared] }, controllerManager: { extraArgs: [shared] } };
    const patched = applyKubeadmPatches(SINGLE, [{ kind: 'ClusterConfiguration', patch }]);
    const cluster = byKind(patched, 'ClusterConfiguration');
    expect(cluster.clusterName).toBe('on');
    expect(cluster.controlPlaneEndpoint).toBe(long);
    // ClusterConfiguration has no comments, so the patched document is exactly what yamlDocument renders from the object.
    const expected = new Document({ ...byKind(SINGLE, 'ClusterConfiguration'), ...patch }, { version: '1.1', aliasDuplicateObjects: false }).toString({
      lineWidth: 0,
    });
    expect(documents(patched)[1]).toBe(expected);
    expect(expected).toContain('clusterName: "on"\n');
    expect(expected).not.toContain('&');
  });

  it('applies patches in order, to every document of the kind', () => {
    const twice = `${JOIN}---\n${JOIN}`;
    const patched = applyKubeadmPatches(twice, [
      { kind: 'JoinConfiguration', patch: { nodeRegistration: { taints: [] } } },
      { kind: 'JoinConfiguration', patch: { nodeRegistration: { taints: null, ignorePreflightErrors: ['all'] } } },
    ]);
    const joins = parse(patched);
    expect(joins).toHaveLength(2);
    for (const join of joins)
      expect(join.nodeRegistration).toEqual({ ...(byKind(JOIN, 'JoinConfiguration').nodeRegistration as Json), ignorePreflightErrors: ['all'] });
  });

  it('matches apiVersion too when the patch gives one', () => {
    const patched = applyKubeadmPatches(INIT, [
      { kind: 'KubeProxyConfiguration', apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', patch: { mode: 'nftables' } },
    ]);
    expect(byKind(patched, 'KubeProxyConfiguration').mode).toBe('nftables');
    const error = refused(() =>
      applyKubeadmPatches(INIT, [{ kind: 'ClusterConfiguration', apiVersion: 'kubeadm.k8s.io/v1beta3', patch: { clusterName: 'x' } }]),
    );
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(
      'kubeadm config patch for ClusterConfiguration (kubeadm.k8s.io/v1beta3) matches no document; this configuration holds InitConfiguration (kubeadm.k8s.io/v1beta4), ClusterConfiguration (kubeadm.k8s.io/v1beta4), KubeletConfiguration (kubelet.config.k8s.io/v1beta1), KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1)',
    );
    expect(error.hint).toBe('leave out apiVersion, or give the apiVersion of a document present');
  });

  it('refuses a patch that matches no document, naming its kind and the kinds present', () => {
    const error = refused(() => applyKubeadmPatches(JOIN, [{ kind: 'KubeletConfiguration', patch: { maxPods: 50 } }]));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.code).toBe('kubeadm-patch');
    expect(error.message).toBe(
      'kubeadm config patch for KubeletConfiguration matches no document; this configuration holds JoinConfiguration (kubeadm.k8s.io/v1beta4)',
    );
    expect(error.hint).toBe('patch one of the kinds present');
  });

  it.each<[string, KubeadmPatch, string]>([
    ['kind', { kind: 'KubeletConfiguration', patch: { kind: 'Other' } }, 'KubeletConfiguration: kind: a patch cannot change kind'],
    [
      'apiVersion',
      { kind: 'InitConfiguration', patch: { apiVersion: 'kubeadm.k8s.io/v1beta3' } },
      'InitConfiguration: apiVersion: a patch cannot change apiVersion',
    ],
    [
      'the kubelet’s user-namespace gate',
      { kind: 'KubeletConfiguration', patch: { featureGates: { KubeletInUserNamespace: false } } },
      'KubeletConfiguration: featureGates.KubeletInUserNamespace: feature gate KubeletInUserNamespace cannot be off',
    ],
    [
      'kube-proxy’s user-namespace gate',
      { kind: 'KubeProxyConfiguration', patch: { featureGates: { KubeletInUserNamespace: null } } },
      'KubeProxyConfiguration: featureGates.KubeletInUserNamespace: feature gate KubeletInUserNamespace cannot be off',
    ],
    [
      'every feature gate at once',
      { kind: 'KubeletConfiguration', patch: { featureGates: null } },
      'KubeletConfiguration: featureGates: featureGates cannot be replaced',
    ],
    [
      'the bootstrap token',
      { kind: 'InitConfiguration', patch: { bootstrapTokens: [{ token: 'abcdef.0123456789abcdef' }] } },
      'InitConfiguration: bootstrapTokens: ',
    ],
    [
      'the join discovery',
      { kind: 'JoinConfiguration', patch: { discovery: { bootstrapToken: { unsafeSkipCAVerification: true } } } },
      'JoinConfiguration: discovery: ',
    ],
  ])('refuses a patch of %s, in one line with a hint', (_, patch, expected) => {
    const error = refused(() => applyKubeadmPatches(`${INIT}---\n${JOIN}`, [patch]));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain(`kubeadm config patch for ${expected}`);
    expect(error.message).not.toContain('\n');
    expect(error.hint).toBeTruthy();
  });

  it('lets a patch keep the user-namespace gate on and touch other parts of the same objects', () => {
    const patches: KubeadmPatch[] = [
      { kind: 'KubeletConfiguration', patch: { featureGates: { KubeletInUserNamespace: true } } },
      { kind: 'InitConfiguration', patch: { nodeRegistration: { ignorePreflightErrors: ['all'] } } },
      { kind: 'JoinConfiguration', patch: { nodeRegistration: { ignorePreflightErrors: ['all'] } } },
    ];
    for (const patch of patches) expect(kubeadmPatchRefusal(patch)).toBeUndefined();
    const patched = applyKubeadmPatches(`${INIT}---\n${JOIN}`, patches);
    expect(byKind(patched, 'InitConfiguration').bootstrapTokens).toEqual(byKind(INIT, 'InitConfiguration').bootstrapTokens);
    expect(byKind(patched, 'JoinConfiguration').discovery).toEqual(byKind(JOIN, 'JoinConfiguration').discovery);
  });

  it('says where in the patch a refusal is', () => {
    expect(kubeadmPatchRefusal({ kind: 'KubeletConfiguration', patch: { featureGates: { KubeletInUserNamespace: false } } })).toMatchObject({
      path: ['featureGates', 'KubeletInUserNamespace'],
      hint: 'remove KubeletInUserNamespace from the patch',
    });
  });
});

describe('kubeadmPatchesFor', () => {
  it('gives init and join each the patches of the kinds they hold, in order', () => {
    const patches: KubeadmPatch[] = [
      { kind: 'KubeletConfiguration', patch: { maxPods: 50 } },
      { kind: 'JoinConfiguration', patch: { nodeRegistration: { ignorePreflightErrors: ['all'] } } },
      { kind: 'ClusterConfiguration', patch: { clusterName: 'x' } },
    ];
    expect(kubeadmPatchesFor('init', patches)).toEqual([patches[0], patches[2]]);
    expect(kubeadmPatchesFor('join', patches)).toEqual([patches[1]]);
    expect(() => applyKubeadmPatches(INIT, kubeadmPatchesFor('init', patches))).not.toThrow();
    expect(() => applyKubeadmPatches(JOIN, kubeadmPatchesFor('join', patches))).not.toThrow();
  });
});
