import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  FLANNEL_DAEMONSET,
  FLANNEL_IMAGES,
  FLANNEL_NAMESPACE,
  FLANNEL_VERSION,
  renderFlannelManifest,
  type ClusterRole,
  type ConfigMap,
  type DaemonSet,
  type FlannelNetConf,
  type Namespace,
} from '../../src/kube/flannel.js';
import { thrown } from '../support/thrown.js';

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** Parsed with YAML 1.1 rules, as kubectl's go-yaml reads it. */
function parse(text: string): KubeObject[] {
  return Array.from(parseAllDocuments(text, { version: '1.1' }), (document) => {
    expect(document.errors).toEqual([]);
    return document.toJS() as KubeObject;
  });
}

function find<T>(objects: KubeObject[], kind: string): T {
  const found = objects.find((object) => object.kind === kind);
  if (!found) throw new Error(`no ${kind}`);
  return found as unknown as T;
}

function netConf(text: string): FlannelNetConf {
  return JSON.parse(find<ConfigMap>(parse(text), 'ConfigMap').data['net-conf.json']!) as FlannelNetConf;
}

const DEFAULT = renderFlannelManifest({ podSubnet: '10.244.0.0/16' });
const TUNED = renderFlannelManifest({ podSubnet: '10.250.0.0/16', vxlanPort: 8473, mtu: 1400 });

describe('golden flannel manifest', () => {
  it('with the default pod subnet and VXLAN settings', async () => {
    await expect(DEFAULT).toMatchFileSnapshot('../golden/kube/flannel.default.yaml');
  });

  it('with another pod subnet, a VXLAN port and an MTU', async () => {
    await expect(TUNED).toMatchFileSnapshot('../golden/kube/flannel.vxlan-port-mtu.yaml');
  });
});

describe('renderFlannelManifest', () => {
  const objects = parse(DEFAULT);
  const daemonSet = find<DaemonSet>(objects, 'DaemonSet');
  const pod = daemonSet.spec.template.spec;
  const flanneld = pod.containers[0]!;

  it("holds upstream's objects, in upstream's order", () => {
    expect(objects.map((object) => `${object.kind} ${object.metadata.namespace ?? '-'}/${object.metadata.name}`)).toEqual([
      'Namespace -/kube-flannel',
      'ClusterRole -/flannel',
      'ClusterRoleBinding -/flannel',
      'ServiceAccount kube-flannel/flannel',
      'ConfigMap kube-flannel/kube-flannel-cfg',
      'DaemonSet kube-flannel/kube-flannel-ds',
    ]);
    expect(find<Namespace>(objects, 'Namespace').metadata.labels).toEqual({ 'k8s-app': 'flannel', 'pod-security.kubernetes.io/enforce': 'privileged' });
    expect(find<ClusterRole>(objects, 'ClusterRole').rules.map((rule) => `${rule.resources.join()}: ${rule.verbs.join()}`)).toEqual([
      'pods: get',
      'nodes: get,list,watch',
      'nodes/status: patch',
    ]);
  });

  it('names the DaemonSet and namespace rootlet waits for', () => {
    expect(daemonSet.metadata).toMatchObject({ name: FLANNEL_DAEMONSET, namespace: FLANNEL_NAMESPACE });
    expect([FLANNEL_NAMESPACE, FLANNEL_DAEMONSET]).toEqual(['kube-flannel', 'kube-flannel-ds']);
  });

  it('pins the images of flannel v0.28.9, and FLANNEL_IMAGES lists every image the manifest names', () => {
    expect(FLANNEL_VERSION).toBe('v0.28.9');
    expect(FLANNEL_IMAGES).toEqual({ flannel: 'ghcr.io/flannel-io/flannel:v0.28.9', cniPlugin: 'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3' });
    const images = [...(pod.initContainers ?? []), ...pod.containers].map((container) => container.image);
    expect(images).toEqual([FLANNEL_IMAGES.cniPlugin, FLANNEL_IMAGES.flannel, FLANNEL_IMAGES.flannel]);
    expect(new Set(DEFAULT.match(/image: \S+/g))).toEqual(new Set(images.map((image) => `image: ${image}`)));
  });

  it('runs flanneld on the host network, unprivileged with NET_ADMIN and NET_RAW, as a node-critical pod on every node', () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.priorityClassName).toBe('system-node-critical');
    expect(pod.tolerations).toEqual([{ operator: 'Exists', effect: 'NoSchedule' }]);
    expect(flanneld.securityContext).toEqual({ privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } });
    expect(flanneld.args).toEqual(['--ip-masq', '--kube-subnet-mgr', '--healthz-port=8081']);
    expect(flanneld.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'healthz' });
  });

  it('keeps env values strings under YAML 1.1', () => {
    expect(flanneld.env).toContainEqual({ name: 'CONT_WHEN_CACHE_NOT_READY', value: 'false' });
    expect(flanneld.env).toContainEqual({ name: 'EVENT_QUEUE_DEPTH', value: '5000' });
  });

  it('installs the CNI configuration the flannel plugin delegates from', () => {
    const cniConf = JSON.parse(find<ConfigMap>(objects, 'ConfigMap').data['cni-conf.json']!) as { plugins: { type: string }[] };
    expect(cniConf.plugins.map((plugin) => plugin.type)).toEqual(['flannel', 'portmap']);
    expect(pod.initContainers?.[1]?.args).toEqual(['/etc/kube-flannel/cni-conf.json', '/etc/cni/net.d/10-flannel.conflist']);
  });

  it("sets Network to the pod subnet and leaves Port and MTU to flannel's defaults", () => {
    expect(netConf(DEFAULT)).toEqual({ Network: '10.244.0.0/16', EnableNFTables: false, Backend: { Type: 'vxlan' } });
  });

  it('sets the VXLAN port and MTU when given', () => {
    expect(netConf(TUNED)).toEqual({ Network: '10.250.0.0/16', EnableNFTables: false, Backend: { Type: 'vxlan', Port: 8473, MTU: 1400 } });
    expect(netConf(renderFlannelManifest({ podSubnet: '10.244.0.0/16', mtu: 1450 })).Backend).toEqual({ Type: 'vxlan', MTU: 1450 });
  });
});

describe('refusals', () => {
  it.each([
    ['10.244.0.0', 'address/prefix'],
    ['10.244.0.0/33', 'address/prefix'],
    ['10.256.0.0/16', 'address/prefix'],
    ['', 'address/prefix'],
    ['10.244.1.0/16', 'did you mean 10.244.0.0/16?'],
    ['fd00:10:244::/56', '--cni-manifest'],
    ['10.244.0.0/16,fd00:10:244::/56', '--cni-manifest'],
  ])('pod subnet "%s"', (podSubnet, hint) => {
    const error = thrown(() => renderFlannelManifest({ podSubnet }));
    expect(error.code).toBe('pod-subnet');
    expect(error.exitCode).toBe(2);
    expect(error.message).not.toContain('\n');
    expect(error.hint).toContain(hint);
  });

  it.each([0, 65536, 8472.5, -1, Number.NaN])('VXLAN port %s', (vxlanPort) => {
    const error = thrown(() => renderFlannelManifest({ podSubnet: '10.244.0.0/16', vxlanPort }));
    expect(error.code).toBe('vxlan-port');
    expect(error.exitCode).toBe(2);
    expect(error.hint).toContain('1 to 65535');
  });

  it.each([575, 9001, 1400.5, 65520])('MTU %s', (mtu) => {
    const error = thrown(() => renderFlannelManifest({ podSubnet: '10.244.0.0/16', mtu }));
    expect(error.code).toBe('mtu');
    expect(error.exitCode).toBe(2);
    expect(error.hint).toContain('576 to 9000');
  });

  it('accepts the edges of the ranges', () => {
    expect(netConf(renderFlannelManifest({ podSubnet: '10.0.0.0/8', vxlanPort: 1, mtu: 576 })).Backend).toEqual({ Type: 'vxlan', Port: 1, MTU: 576 });
    expect(netConf(renderFlannelManifest({ podSubnet: '192.168.0.0/24', vxlanPort: 65535, mtu: 9000 })).Backend).toEqual({
      Type: 'vxlan',
      Port: 65535,
      MTU: 9000,
    });
  });
});
