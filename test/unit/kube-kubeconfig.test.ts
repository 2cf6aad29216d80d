import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RootletError } from '../../src/errors.js';
import {
  clusterKubeconfig,
  emptyKubeconfig,
  KubeconfigError,
  kubeconfigEntryName,
  mergeKubeconfig,
  parseKubeconfig,
  removeFromKubeconfig,
  renderKubeconfig,
  type Kubeconfig,
} from '../../src/kube/kubeconfig.js';

/** Base64 of every byte value: the alphabet's `+`, `/` and `=` padding all appear, as in real certificates and keys. */
const secret = (label: string) =>
  Buffer.concat([Buffer.from(`-----BEGIN ${label}-----\n`), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]).toString('base64');
const CA = secret('CERTIFICATE');
const CLIENT_CERT = secret('CLIENT CERTIFICATE');
const CLIENT_KEY = secret('RSA PRIVATE KEY');

/** /etc/kubernetes/admin.conf as kubeadm writes it in the control-plane node. */
const ADMIN_CONF = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${CA}
    server: https://demo-control-plane:6443
  name: demo
contexts:
- context:
    cluster: demo
    user: kubernetes-admin
  name: kubernetes-admin@demo
current-context: kubernetes-admin@demo
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${CLIENT_CERT}
    client-key-data: ${CLIENT_KEY}
`;

/** A user's file with someone else's clusters, fields rootlet does not know, and an exec plugin. */
const USER_CONFIG = `# kept by hand
apiVersion: v1
kind: Config
clusters:
- name: kind-kind
  cluster:
    server: https://127.0.0.1:38451
    certificate-authority-data: ${CA}
    x-vendor-field: {keep: [1, 2]}
- name: rootlet-demo2
  cluster:
    server: https://127.0.0.1:7443
- name: prod
  cluster:
    server: https://prod.example.com
    insecure-skip-tls-verify: true
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: prod}
users:
- name: kind-kind
  user:
    client-key-data: ${CLIENT_KEY}
- name: prod-sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: sso-login
      args: [--tenant, "on"]
      interactiveMode: IfAvailable
contexts:
- name: prod
  context: {cluster: prod, user: prod-sso, namespace: "yes"}
- name: kind-kind
  context: {cluster: kind-kind, user: kind-kind}
current-context: prod
preferences:
  colors: true
x-top-level: 7
`;

const admin = () => parseKubeconfig(ADMIN_CONF, 'demo-control-plane:/etc/kubernetes/admin.conf');
const demo = () => clusterKubeconfig(admin(), { clusterName: 'demo', server: 'https://127.0.0.1:6443' });
const names = (config: Kubeconfig) => ({
  clusters: config.clusters.map((entry) => entry.name),
  users: config.users.map((entry) => entry.name),
  contexts: config.contexts.map((entry) => entry.name),
});

function errorOf(action: () => unknown): RootletError {
  try {
    action();
  } catch (error) {
    if (error instanceof RootletError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('parseKubeconfig', () => {
  it('reads a kubeconfig, keeping fields it does not know', () => {
    const config = parseKubeconfig(USER_CONFIG, '/home/alice/.kube/config');
    expect(names(config)).toEqual({ clusters: ['kind-kind', 'rootlet-demo2', 'prod'], users: ['kind-kind', 'prod-sso'], contexts: ['prod', 'kind-kind'] });
    expect(config['current-context']).toBe('prod');
    expect(config.clusters[0]!.cluster['x-vendor-field']).toEqual({ keep: [1, 2] });
    expect(config['x-top-level']).toBe(7);
    expect(config.users[1]!.user.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: 'sso-login',
      args: ['--tenant', 'on'],
      interactiveMode: 'IfAvailable',
    });
  });

  it('reads an empty file, and null lists, as client-go does', () => {
    expect(parseKubeconfig('', 'f')).toEqual(emptyKubeconfig());
    expect(parseKubeconfig('# nothing yet\n', 'f')).toEqual(emptyKubeconfig());
    const config = parseKubeconfig('apiVersion: v1\nkind: Config\nclusters: null\nusers:\n- name: u\n  user: null\ncontexts:\n', 'f');
    expect(config.clusters).toEqual([]);
    expect(config.contexts).toEqual([]);
    expect(config.users).toEqual([{ name: 'u', user: {} }]);
    expect(parseKubeconfig('clusters:\n- name: a\n', 'f')).toEqual({ clusters: [{ cluster: {}, name: 'a' }], contexts: [], users: [] });
  });

  it('says where broken YAML is broken', () => {
    const error = errorOf(() => parseKubeconfig('apiVersion: v1\nclusters: [\n- name: a\n', '/home/alice/.kube/config'));
    expect(error).toBeInstanceOf(KubeconfigError);
    expect(error.message).toMatch(/^\/home\/alice\/\.kube\/config: not a kubeconfig: \d+:\d+: /);
    expect(error.message).not.toContain('\n');
  });

  it.each([
    ['- a list\n', '1:1: expected a mapping at the top'],
    ['just text\n', '1:1: expected a mapping at the top'],
    ['kind: Pod\n', '1:7: kind: Invalid input: expected "Config"'],
    ['apiVersion: v2\n', '1:13: apiVersion: Invalid input: expected "v1"'],
    ['clusters:\n- cluster: {}\n', '2:3: clusters[0].name: Invalid input: expected string, received undefined'],
    ['clusters:\n- name: a\n  cluster:\n    server: [x]\n', '4:13: clusters[0].cluster.server: Invalid input: expected string, received array'],
    ['users:\n- name: a\n- name: a\n', '3:9: users[1].name: duplicate name "a"'],
    ['a: 1\na: 2\n', '2:1: Map keys must be unique'],
  ])('rejects %j with line and column', (text, where) => {
    expect(errorOf(() => parseKubeconfig(text, 'cfg')).message).toBe(`cfg: not a kubeconfig: ${where}`);
  });
});

describe('clusterKubeconfig', () => {
  it("makes one cluster, user and context named rootlet-<name> from kubeadm's admin.conf", () => {
    const entry = demo();
    expect(entry).toEqual({
      apiVersion: 'v1',
      clusters: [{ name: 'rootlet-demo', cluster: { 'certificate-authority-data': CA, server: 'https://127.0.0.1:6443' } }],
      contexts: [{ name: 'rootlet-demo', context: { cluster: 'rootlet-demo', user: 'rootlet-demo' } }],
      'current-context': 'rootlet-demo',
      kind: 'Config',
      preferences: {},
      users: [{ name: 'rootlet-demo', user: { 'client-certificate-data': CLIENT_CERT, 'client-key-data': CLIENT_KEY } }],
    });
  });

  it('does not change the admin.conf it was given', () => {
    const source = admin();
    const copy = structuredClone(source);
    clusterKubeconfig(source, { clusterName: 'demo', server: 'https://127.0.0.1:6443' });
    expect(source).toEqual(copy);
  });

  it('takes an IPv6 or host address', () => {
    const entry = clusterKubeconfig(admin(), { clusterName: 'lab', server: 'https://[::1]:7443' });
    expect(entry.clusters[0]!.cluster.server).toBe('https://[::1]:7443');
    expect(entry.clusters[0]!.name).toBe('rootlet-lab');
  });

  it.each(['Demo', '-demo', 'demo-', 'de_mo', 'de.mo', '', 'a'.repeat(64), '--kubeconfig'])('rejects the cluster name %j', (clusterName) => {
    const error = errorOf(() => clusterKubeconfig(admin(), { clusterName, server: 'https://127.0.0.1:6443' }));
    expect(error.code).toBe('cluster-name');
    expect(error.hint).toBeDefined();
  });

  it.each(['http://127.0.0.1:6443', '127.0.0.1:6443', 'https://', 'https://user:pw@127.0.0.1:6443', 'https://127.0.0.1:6443/?x=1'])(
    'rejects the server %j',
    (server) => {
      expect(errorOf(() => clusterKubeconfig(admin(), { clusterName: 'demo', server })).code).toBe('kubeconfig-server');
    },
  );

  it('refuses an admin.conf whose context points nowhere, or that names files in the node', () => {
    const noUser = parseKubeconfig(ADMIN_CONF.replace('user: kubernetes-admin', 'user: someone'), 'admin.conf');
    expect(errorOf(() => clusterKubeconfig(noUser, { clusterName: 'demo', server: 'https://127.0.0.1:6443' })).message).toContain('names user "someone"');
    const noContext = parseKubeconfig(ADMIN_CONF.replace('current-context: kubernetes-admin@demo', 'current-context: other'), 'admin.conf');
    expect(errorOf(() => clusterKubeconfig(noContext, { clusterName: 'demo', server: 'https://127.0.0.1:6443' })).message).toContain('"other" is not in it');
    const files = parseKubeconfig(ADMIN_CONF.replace(`client-key-data: ${CLIENT_KEY}`, 'client-key: /etc/kubernetes/pki/admin.key'), 'admin.conf');
    expect(errorOf(() => clusterKubeconfig(files, { clusterName: 'demo', server: 'https://127.0.0.1:6443' })).message).toContain('client-key');
  });
});

describe('mergeKubeconfig', () => {
  it('makes a new kubeconfig from nothing', () => {
    expect(mergeKubeconfig(undefined, demo(), { switchContext: true })).toEqual(demo());
    expect(mergeKubeconfig(undefined, demo(), { switchContext: false })['current-context']).toBe('');
  });

  it("adds the cluster and leaves other users' entries, their order and unknown fields as they were", () => {
    const existing = parseKubeconfig(USER_CONFIG, 'config');
    const before = structuredClone(existing);
    const merged = mergeKubeconfig(existing, demo(), { switchContext: false });
    expect(existing).toEqual(before);
    expect(names(merged)).toEqual({
      clusters: ['kind-kind', 'rootlet-demo2', 'prod', 'rootlet-demo'],
      users: ['kind-kind', 'prod-sso', 'rootlet-demo'],
      contexts: ['prod', 'kind-kind', 'rootlet-demo'],
    });
    expect(merged.clusters.slice(0, 3)).toEqual(before.clusters);
    expect(merged.users.slice(0, 2)).toEqual(before.users);
    expect(merged.contexts.slice(0, 2)).toEqual(before.contexts);
    expect(merged['current-context']).toBe('prod');
    expect(merged.preferences).toEqual({ colors: true });
    expect(merged['x-top-level']).toBe(7);
  });

  it('replaces same-named entries where they stand, and switches context only when asked', () => {
    const first = mergeKubeconfig(parseKubeconfig(USER_CONFIG, 'config'), demo(), { switchContext: false });
    const moved = clusterKubeconfig(admin(), { clusterName: 'demo', server: 'https://127.0.0.1:16443' });
    const again = mergeKubeconfig(
      { ...first, clusters: [first.clusters[3]!, ...first.clusters.slice(0, 3)] }, // rootlet-demo first now
      moved,
      { switchContext: true },
    );
    expect(again.clusters.map((entry) => entry.name)).toEqual(['rootlet-demo', 'kind-kind', 'rootlet-demo2', 'prod']);
    expect(again.clusters[0]!.cluster.server).toBe('https://127.0.0.1:16443');
    expect(again.users.filter((entry) => entry.name === 'rootlet-demo')).toHaveLength(1);
    expect(again['current-context']).toBe('rootlet-demo');
  });
});

describe('removeFromKubeconfig', () => {
  it('removes exactly the rootlet-<name> entries and clears the current context that was theirs', () => {
    const withDemo = mergeKubeconfig(parseKubeconfig(USER_CONFIG, 'config'), demo(), { switchContext: true });
    const removed = removeFromKubeconfig(withDemo, 'demo');
    expect(names(removed)).toEqual(names(parseKubeconfig(USER_CONFIG, 'config')));
    expect(removed.clusters.map((entry) => entry.name)).toContain('rootlet-demo2');
    expect(removed['current-context']).toBe('');
  });

  it('keeps the current context that was not theirs, and is a no-op when there is nothing to remove', () => {
    const existing = parseKubeconfig(USER_CONFIG, 'config');
    const withDemo = mergeKubeconfig(existing, demo(), { switchContext: false });
    expect(removeFromKubeconfig(withDemo, 'demo')).toEqual(existing);
    expect(removeFromKubeconfig(existing, 'demo')).toEqual(existing);
    expect(removeFromKubeconfig(existing, 'kind')).toEqual(existing);
  });

  it('validates the name', () => {
    expect(errorOf(() => removeFromKubeconfig(emptyKubeconfig(), '../x')).code).toBe('cluster-name');
  });
});

describe('renderKubeconfig', () => {
  it('round-trips, secrets byte for byte', () => {
    const merged = mergeKubeconfig(parseKubeconfig(USER_CONFIG, 'config'), demo(), { switchContext: true });
    const text = renderKubeconfig(merged);
    expect(parseKubeconfig(text, 'rendered')).toEqual(merged);
    // The same characters, on one line each, as kubectl writes them.
    expect(text).toContain(`    client-key-data: ${CLIENT_KEY}\n`);
    expect(text).toContain(`    client-certificate-data: ${CLIENT_CERT}\n`);
    expect(text).toContain(`    certificate-authority-data: ${CA}\n`);
    const raw = parse(text) as { users: Array<{ name: string; user: Record<string, string> }> };
    expect(Buffer.from(raw.users.find((entry) => entry.name === 'kind-kind')!.user['client-key-data']!, 'base64')).toEqual(Buffer.from(CLIENT_KEY, 'base64'));
  });

  it('writes what kubectl reads: lists as kubectl indents them, YAML 1.1 look-alikes quoted', () => {
    const text = renderKubeconfig(mergeKubeconfig(parseKubeconfig(USER_CONFIG, 'config'), demo(), { switchContext: true }));
    expect(text).toMatch(/^clusters:\n- cluster:\n/m);
    // "yes" and "on" are booleans to YAML 1.1 (client-go): they stay strings only when quoted.
    expect(text).toContain('namespace: "yes"');
    expect(text).toContain('- "on"');
    expect(renderKubeconfig(demo())).toBe(`apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${CA}
    server: https://127.0.0.1:6443
  name: rootlet-demo
contexts:
- context:
    cluster: rootlet-demo
    user: rootlet-demo
  name: rootlet-demo
current-context: rootlet-demo
kind: Config
preferences: {}
users:
- name: rootlet-demo
  user:
    client-certificate-data: ${CLIENT_CERT}
    client-key-data: ${CLIENT_KEY}
`);
  });

  it('names its entries rootlet-<cluster>', () => {
    expect(kubeconfigEntryName('dev')).toBe('rootlet-dev');
  });
});
