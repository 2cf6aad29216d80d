import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from 'yaml';
import { ANTREA_MANIFEST_SHA256, ANTREA_MANIFEST_URL, ANTREA_VERSION, cniPlan, type CniName, type CniPlanInput } from '../../src/kube/cni.js';
import { renderFlannelManifest } from '../../src/kube/flannel.js';
import { thrown } from '../support/thrown.js';

const BASE = { podSubnet: '10.244.0.0/16', kubernetesVersion: 'v1.37.0' };

/** The shape of Antrea's release manifest where rootlet looks: antrea-config's agent conf, the agent DaemonSet, the controller. */
const ANTREA = `# Source: antrea/templates/agent/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: antrea-agent
  namespace: kube-system
  labels:
    app: antrea
---
# Source: antrea/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: antrea-config
  namespace: kube-system
  labels:
    app: antrea
data:
  antrea-agent.conf: |
    # FeatureGates is a map of feature names to bools that enable or disable experimental features.
    featureGates:
    #  AllAlpha: false

    # Tunnel protocols used for encapsulating traffic across Nodes.
    tunnelType: "geneve"

    # TunnelPort is the destination port for UDP and TCP based tunnel protocols (Geneve, VXLAN, and STT).
    # If zero, it will use the assigned IANA port for the protocol.
    tunnelPort: 0

    # Default MTU to use for the host gateway interface and the network interface of each Pod.
    defaultMTU: 0
  antrea-controller.conf: |
    # Same-named key in the controller's conf, which rootlet must leave alone.
    tunnelPort: 0
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: antrea-agent
  namespace: kube-system
spec:
  selector:
    matchLabels:
      component: antrea-agent
  template:
    metadata:
      labels:
        component: antrea-agent
    spec:
      hostNetwork: true
      containers:
        - name: antrea-agent
          image: "antrea/antrea-agent-ubuntu:v2.7.0"
          securityContext:
            privileged: true
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: antrea-controller
  namespace: kube-system
spec:
  replicas: 1
`;

function agentConf(manifest: string): Record<string, unknown> {
  for (const document of parseAllDocuments(manifest, { version: '1.1' })) {
    const object = document.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> };
    if (object.kind === 'ConfigMap' && object.metadata.name === 'antrea-config')
      return parseDocument(object.data!['antrea-agent.conf']!, { version: '1.1' }).toJS() as Record<string, unknown>;
  }
  throw new Error('no antrea-config');
}

function changedLines(before: string, after: string): [string, string][] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b).toHaveLength(a.length);
  return a.flatMap((line, index) => (line === b[index] ? [] : [[line, b[index]!] as [string, string]]));
}

describe('flannel', () => {
  it("renders rootlet's manifest and waits for kube-flannel-ds", () => {
    const plan = cniPlan({ ...BASE, cni: 'flannel', vxlanPort: 8473, mtu: 1450 });
    expect(plan).toEqual({
      name: 'flannel',
      manifest: renderFlannelManifest({ podSubnet: '10.244.0.0/16', vxlanPort: 8473, mtu: 1450 }),
      source: 'rendered',
      daemonSets: [{ namespace: 'kube-flannel', name: 'kube-flannel-ds' }],
      experimental: false,
      notes: [],
    });
  });

  it('passes rendering errors through', () => {
    expect(thrown(() => cniPlan({ ...BASE, cni: 'flannel', podSubnet: '10.244.0.0' })).code).toBe('pod-subnet');
  });

  describe('from --cni-manifest', () => {
    const own = renderFlannelManifest({ podSubnet: '10.244.0.0/16' })
      .replace(/kube-flannel-ds/g, 'flannel-ds-airgap')
      .replace(/ghcr\.io/g, 'registry.lab.test');
    const file = (text: string) => ({ path: 'flannel.yml', text });

    it('applies the file as given and waits for its DaemonSet', () => {
      const plan = cniPlan({ ...BASE, cni: 'flannel', manifest: file(own) });
      expect(plan.manifest).toBe(own);
      expect(plan.source).toBe('file');
      expect(plan.daemonSets).toEqual([{ namespace: 'kube-flannel', name: 'flannel-ds-airgap' }]);
      expect(plan.notes).toEqual([]);
    });

    it('accepts a Network that contains the pod subnet', () => {
      const wide = own.replace('"Network": "10.244.0.0/16"', '"Network": "10.0.0.0/8"');
      expect(cniPlan({ ...BASE, cni: 'flannel', manifest: file(wide) }).notes).toEqual([]);
    });

    it('refuses a Network that does not contain the pod subnet, and says what to set', () => {
      const other = own.replace('"Network": "10.244.0.0/16"', '"network": "10.42.0.0/16"');
      const error = thrown(() => cniPlan({ ...BASE, cni: 'flannel', manifest: file(other) }));
      expect(error.code).toBe('cni-manifest');
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe("flannel.yml: flannel's Network 10.42.0.0/16 (ConfigMap kube-flannel-cfg) does not contain the pod subnet 10.244.0.0/16");
      expect(error.hint).toBe('set "Network" in its net-conf.json to 10.244.0.0/16');
    });

    it('notes a VXLAN port or MTU it does not apply', () => {
      const notes = cniPlan({ ...BASE, cni: 'flannel', manifest: file(own), vxlanPort: 8473, mtu: 1450 }).notes;
      expect(notes).toEqual([
        'flannel.yml is applied as it is: its net-conf.json has Port 8472 (kernel default), not 8473; edit "Backend" there to change it',
        'flannel.yml is applied as it is: its net-conf.json has MTU unset, not 1450; edit "Backend" there to change it',
      ]);
      const tuned = renderFlannelManifest({ podSubnet: '10.244.0.0/16', vxlanPort: 8473, mtu: 1450 });
      expect(cniPlan({ ...BASE, cni: 'flannel', manifest: file(tuned), vxlanPort: 8473, mtu: 1450 }).notes).toEqual([]);
    });

    it('notes a manifest whose net-conf.json it cannot find', () => {
      const bare = ANTREA.replace(/antrea/g, 'flannel');
      expect(cniPlan({ ...BASE, cni: 'flannel', manifest: file(bare) }).notes).toEqual([
        'flannel.yml has no ConfigMap with a net-conf.json: rootlet cannot check its Network against the pod subnet 10.244.0.0/16',
      ]);
    });
  });
});

describe('none', () => {
  it('applies nothing, waits for no DaemonSet, and says the nodes stay NotReady', () => {
    const plan = cniPlan({ ...BASE, cni: 'none' });
    expect(plan).toMatchObject({ name: 'none', manifest: undefined, source: 'none', daemonSets: [], experimental: false });
    expect(plan.notes.join()).toContain('the nodes stay NotReady until you install a CNI');
  });

  it('refuses a manifest file', () => {
    const error = thrown(() => cniPlan({ ...BASE, cni: 'none', manifest: { path: 'x.yml', text: ANTREA } }));
    expect(error.code).toBe('cni-manifest');
    expect(error.hint).toContain('drop --cni-manifest');
  });
});

describe('antrea', () => {
  const file = (text: string) => ({ path: '/tmp/antrea.yml', text });

  it('pins v2.7.0 by its release URL; the checksum is unknown here', () => {
    expect(ANTREA_VERSION).toBe('v2.7.0');
    expect(ANTREA_MANIFEST_URL).toBe('https://github.com/antrea-io/antrea/releases/download/v2.7.0/antrea.yml');
    expect(ANTREA_MANIFEST_SHA256).toBeUndefined();
  });

  it('without a manifest file: download it and pass --cni-manifest', () => {
    const error = thrown(() => cniPlan({ ...BASE, cni: 'antrea' }));
    expect(error.code).toBe('cni-manifest');
    expect(error.exitCode).toBe(2);
    expect(error.message).not.toContain('\n');
    expect(error.hint).toBe(`download ${ANTREA_MANIFEST_URL} and pass --cni-manifest FILE`);
  });

  it('is experimental, needs openvswitch on every host, and waits for antrea-agent', () => {
    const plan = cniPlan({ ...BASE, cni: 'antrea', manifest: file(ANTREA) });
    expect(plan).toMatchObject({ name: 'antrea', manifest: ANTREA, source: 'file', experimental: true });
    expect(plan.daemonSets).toEqual([{ namespace: 'kube-system', name: 'antrea-agent' }]);
    expect(plan.notes.some((note) => note.includes('openvswitch') && note.includes('every host'))).toBe(true);
    expect(plan.notes.some((note) => note.includes('not been seen working in rootless nodes'))).toBe(true);
  });

  it("sets tunnelPort in the agent's conf, changing only that line; the MTU (the pods', after overhead) is Antrea's to derive", () => {
    const plan = cniPlan({ ...BASE, cni: 'antrea', manifest: file(ANTREA), vxlanPort: 8473, mtu: 1450 });
    expect(changedLines(ANTREA, plan.manifest!)).toEqual([['    tunnelPort: 0', '    tunnelPort: 8473']]);
    expect(agentConf(plan.manifest!)).toMatchObject({ tunnelType: 'geneve', tunnelPort: 8473, defaultMTU: 0 });
    expect(plan.daemonSets).toEqual([{ namespace: 'kube-system', name: 'antrea-agent' }]);
    expect(plan.notes.join()).not.toContain('tunnelPort');
  });

  it('notes the port it could not set when the conf has no tunnelPort line', () => {
    for (const edited of [ANTREA.replace('    tunnelPort: 0\n', ''), ANTREA.replace('    tunnelPort: 0\n', '    # tunnelPort: 0\n')]) {
      const plan = cniPlan({ ...BASE, cni: 'antrea', manifest: file(edited), vxlanPort: 8473 });
      expect(plan.manifest).toBe(edited);
      expect(plan.notes).toContain(
        '/tmp/antrea.yml: no "tunnelPort:" line in antrea-agent.conf of ConfigMap antrea-config, so the tunnel port stays Antrea\'s default; set tunnelPort: 8473 there',
      );
    }
  });
});

describe('manifest files', () => {
  const plan = (text: string, cni: CniName = 'antrea') => cniPlan({ ...BASE, cni, manifest: { path: 'cni.yml', text } });

  it('skips empty documents and puts a DaemonSet without namespace in default', () => {
    const text = '---\n# only a comment\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n---\n';
    expect(plan(text).daemonSets).toEqual([{ namespace: 'default', name: 'agent' }]);
  });

  it('a YAML error, at file:line:col', () => {
    const error = thrown(() => plan('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n labels: {}\n'));
    expect(error.code).toBe('cni-manifest');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/^cni\.yml:5:\d+: /);
    expect(error.message).not.toContain('\n');
  });

  it.each([
    ['apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\nkind: ConfigMap\nmetadata:\n  name: b\n', 'cni.yml:7:1: document 2 has no apiVersion'],
    ['apiVersion: v1\nmetadata:\n  name: a\n', 'cni.yml:1:1: document 1 has no kind'],
    ['apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: a-\n', 'cni.yml:1:1: document 1 has no metadata.name'],
    ['- apiVersion: v1\n', 'cni.yml:1:1: document 1 is not a mapping'],
  ])('a document that is not a Kubernetes object', (text, message) => {
    const error = thrown(() => plan(text));
    expect(error.message).toBe(message);
    expect(error.hint).toContain('apiVersion, kind and metadata.name');
  });

  it('aliases that expand without bound', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcde'.split('').map((key, index) => `${key}: &${key} [${Array(9).fill(`*${'abcd'[index]}`).join(', ')}]`),
    ];
    const error = thrown(() => plan(`${bomb.join('\n')}\n`));
    expect(error.message).toBe('cni.yml:1:1: Excessive alias count indicates a resource exhaustion attack');
    expect(error.exitCode).toBe(2);
  });

  it('no DaemonSet', () => {
    const error = thrown(() => plan('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cni\n', 'flannel'));
    expect(error.message).toBe('cni.yml: no DaemonSet in the manifest');
    expect(error.exitCode).toBe(2);
  });

  it('an empty file', () => {
    expect(thrown(() => plan('')).message).toBe('cni.yml: no DaemonSet in the manifest');
  });
});

describe('refusals', () => {
  it('an unknown CNI name', () => {
    const error = thrown(() => cniPlan({ ...BASE, cni: 'calico' } as unknown as CniPlanInput));
    expect(error.code).toBe('cni');
    expect(error.hint).toBe('choose one of flannel, antrea, none');
  });

  it('a Kubernetes version rootlet does not render for', () => {
    expect(thrown(() => cniPlan({ ...BASE, cni: 'flannel', kubernetesVersion: 'latest' })).code).toBe('kubernetes-version');
  });
});
