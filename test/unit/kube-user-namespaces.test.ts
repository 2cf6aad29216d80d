import { describe, expect, it } from 'vitest';
import { RootletError } from '../../src/errors.js';
import type { KubeClusterSpec } from '../../src/kube/cluster-spec.js';
import { IDS_PER_POD, KUBELET_MAX_PODS, userNamespacedPods } from '../../src/kube/user-namespaces.js';

const spec = (overrides: Partial<KubeClusterSpec>): KubeClusterSpec => ({
  name: 'demo',
  kubernetesVersion: 'v1.37.0',
  nodes: [{ name: 'demo-control-plane', role: 'control-plane' }],
  ...overrides,
});

/** Enough for the node's own block and one block per pod the kubelet may run. */
const ENOUGH = IDS_PER_POD * (KUBELET_MAX_PODS + 1);

describe('userNamespacedPods', () => {
  it.each([
    ['v1.31.9', undefined, false, undefined, undefined],
    ['v1.32.4', true, true, true, undefined],
    ['v1.33.0', undefined, true, undefined, IDS_PER_POD],
    ['v1.35.2', false, false, false, undefined],
    ['v1.37.0', undefined, true, undefined, IDS_PER_POD],
    ['v1.37.0', true, true, undefined, IDS_PER_POD],
  ] as const)('Kubernetes %s, switch %s: on %s, gate %s, idsPerPod %s', (kubernetesVersion, switched, enabled, featureGate, idsPerPod) => {
    const result = userNamespacedPods(spec({ kubernetesVersion, ...(switched === undefined ? {} : { userNamespacedPods: switched }), nodeIdCount: ENOUGH }));
    expect({ enabled: result.enabled, featureGate: result.featureGate, idsPerPod: result.idsPerPod }).toEqual({ enabled, featureGate, idsPerPod });
  });

  it('gives the kubelet the ids above the node’s own block when they hold a block for every pod', () => {
    expect(userNamespacedPods(spec({ nodeIdCount: ENOUGH }))).toMatchObject({
      ready: true,
      kubeletIdRange: { first: 65536, count: 65536 * 110 },
    });
    expect(userNamespacedPods(spec({ nodeIdCount: 2 ** 32 })).kubeletIdRange).toEqual({ first: 65536, count: 2 ** 32 - 65536 });
    expect(userNamespacedPods(spec({ nodeIdCount: ENOUGH + 65535 })).kubeletIdRange!.count).toBe(65536 * 110);
  });

  it('says why a typical rootless node (65536 ids) cannot run them', () => {
    const result = userNamespacedPods(spec({ nodeIdCount: 65536 }));
    expect(result.ready).toBe(false);
    expect(result.kubeletIdRange).toBeUndefined();
    expect(result.reason).toContain('holds 65536 ids');
    expect(result.reason).toContain(String(ENOUGH));
    expect(result.reason).toContain('/etc/subuid');
    expect(userNamespacedPods(spec({ nodeIdCount: ENOUGH - 1 })).ready).toBe(false);
    expect(userNamespacedPods(spec({ nodeIdCount: 1000 })).ready).toBe(false);
  });

  it('says when the size is unknown or the feature is off', () => {
    expect(userNamespacedPods(spec({})).reason).toContain('unknown');
    const off = userNamespacedPods(spec({ kubernetesVersion: 'v1.32.4', nodeIdCount: ENOUGH }));
    expect(off.ready).toBe(false);
    expect(off.reason).toContain('set userNamespacedPods: true');
  });

  it('refuses to turn off what 1.36 locks on, and a switch that contradicts the gate', () => {
    for (const bad of [
      spec({ kubernetesVersion: 'v1.36.0', userNamespacedPods: false }),
      spec({ userNamespacedPods: true, featureGates: { UserNamespacesSupport: false } }),
    ]) {
      let error: unknown;
      try {
        userNamespacedPods(bad);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(RootletError);
      expect((error as RootletError).exitCode).toBe(2);
    }
  });

  it('takes the feature gate as the switch when only the gate is given', () => {
    expect(userNamespacedPods(spec({ kubernetesVersion: 'v1.32.0', featureGates: { UserNamespacesSupport: true } })).enabled).toBe(true);
  });
});
