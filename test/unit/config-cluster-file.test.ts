import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ClusterFileSchema, DEFAULT_WAIT_MS, parseDuration, type ClusterFile } from '../../src/config/cluster-file.js';
import { ClusterFileError, loadClusterFile, mergeClusterOptions, renderClusterFile } from '../../src/config/load-cluster-file.js';
import { loadClusterFileFrom } from '../../src/cli/cluster-flags.js';
import { ExitCode, RootletError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local-host.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = path.join(ROOT, 'test/fixtures/cluster-files');
const SCHEMA_FILE = path.join(ROOT, 'schema/cluster.schema.json');

/** Loads a fixture as `rootlet up -f` does: the caller reads, loadClusterFile parses. */
function fixture(name: string): ClusterFile {
  const file = path.join(FIXTURES, name);
  return loadClusterFile(file, readFileSync(file, 'utf8'));
}

function failure(run: () => unknown): ClusterFileError {
  try {
    run();
  } catch (error) {
    if (error instanceof ClusterFileError) return error;
    throw error;
  }
  throw new Error('expected a ClusterFileError');
}

const fixtureFailure = (name: string) => failure(() => fixture(name));
const textFailure = (text: string) => failure(() => loadClusterFile('/srv/cluster.yaml', text));

const HEADER = 'apiVersion: rootlet.dev/v1alpha1\nkind: Cluster\n';

describe('loadClusterFile', () => {
  it('reads every field of a full file, with a relative manifest resolved against its directory', () => {
    expect(fixture('full.yaml')).toEqual({
      apiVersion: 'rootlet.dev/v1alpha1',
      kind: 'Cluster',
      name: 'dev',
      image: 'localhost/rootlet-node:v1.33.1',
      workers: 2,
      cni: { name: 'flannel', manifest: path.join(FIXTURES, 'manifests/flannel.yml') },
      networking: {
        podSubnet: '10.250.0.0/16',
        serviceSubnet: '10.97.0.0/16',
        apiServerPort: 7443,
        apiServerAddress: '127.0.0.1',
        kubeletPort: 11250,
        vxlanPort: 8473,
      },
      kubernetes: {
        featureGates: { SidecarContainers: false },
        userNamespacedPods: true,
        extraArgs: { apiServer: [{ name: 'audit-log-maxage', value: '3' }], kubelet: [{ name: 'v', value: '4' }] },
        kubeadmConfigPatches: [
          { kind: 'KubeletConfiguration', patch: { maxPods: 50 } },
          { kind: 'ClusterConfiguration', apiVersion: 'kubeadm.k8s.io/v1beta4', patch: { apiServer: { certSANs: ['dev.example.com'] } } },
        ],
      },
      nodes: {
        labels: { 'example.com/tier': 'dev' },
        extraPortMappings: [
          { containerPort: 30080, hostPort: 8080, protocol: 'tcp' },
          { containerPort: 30053, listenAddress: '127.0.0.2', protocol: 'udp' },
        ],
        extraMounts: [
          { hostPath: path.join(FIXTURES, 'data'), containerPath: '/data', readOnly: false, propagation: 'none' },
          { hostPath: '/srv/volumes', containerPath: '/mnt/volumes', readOnly: true, propagation: 'hostToContainer' },
        ],
      },
      wait: '1h30m',
      hosts: [],
    });
  });

  it('reads a multi-host file: hosts with key files resolved against its directory, the advertise address', () => {
    const file = fixture('multi-host.yaml');
    expect(file.networking.advertiseAddress).toBe('192.168.1.10');
    expect(file.hosts).toEqual([
      { address: 'node2.lab.example.com', user: 'alice', identity: path.join(FIXTURES, 'keys/lab_ed25519'), role: 'worker', extraPortMappings: [] },
      { address: '192.168.1.13', port: 2222, advertiseAddress: '10.8.0.13', identity: '~/.ssh/id_lab', role: 'worker', extraPortMappings: [] },
      {
        address: 'gpu-box',
        role: 'worker',
        extraPortMappings: [
          { containerPort: 30080, hostPort: 8080, protocol: 'tcp' },
          { containerPort: 30053, protocol: 'udp', listenAddress: '0.0.0.0' },
        ],
      },
    ]);
  });

  it.each([
    ['workers: 1\nhosts: [{address: node2}]', 'workers', 'one node per host'],
    ['hosts: [{address: node2}, {address: node2}]', 'hosts[1].address', 'the same host as hosts[0]'],
    ['hosts: [{address: "-oProxyCommand=touch /tmp/x"}]', 'hosts[0].address', 'invalid SSH host'],
    ['hosts: [{address: "node2;reboot"}]', 'hosts[0].address', 'invalid SSH host'],
    ['hosts: [{address: node2, user: "$(id)"}]', 'hosts[0].user', 'invalid SSH host'],
    ['hosts: [{address: node2, role: control-plane}]', 'hosts[0].role', 'hosts join as worker'],
    ['hosts: [{address: node2, advertiseAddress: 127.0.0.2}]', 'hosts[0].advertiseAddress', 'loopback'],
    ['networking: {advertiseAddress: 127.0.0.1}', 'networking.advertiseAddress', 'loopback'],
    ['networking: {advertiseAddress: here}', 'networking.advertiseAddress', 'not an IP address or auto'],
    ['workers: 2\nnetworking: {advertiseAddress: 192.168.1.10}', 'workers', 'one node per host'],
    ['hosts: [{address: n2, extraPortMappings: [{containerPort: 10250}]}]', 'hosts[0].extraPortMappings[0].containerPort', "the cluster's kubeletPort"],
    ['hosts: [{address: n2, extraPortMappings: [{containerPort: 80, hostPort: 8472, protocol: udp}]}]', 'hosts[0].extraPortMappings[0].hostPort', 'vxlanPort'],
    ['hosts: [{address: n2, extraPortMappings: [{containerPort: 80}, {containerPort: 80}]}]', 'hosts[0].extraPortMappings[1]', 'published twice'],
    ['hosts: [{address: n2, extraPortMappings: [{containerPort: 2379, hostPort: 12379}]}]', 'hosts[0].extraPortMappings[0].containerPort', "etcd's"],
  ])('refuses %j at %s', (body, at, message) => {
    const problem = textFailure(`${HEADER}${body.replace(/\\n/g, '\n')}\n`);
    expect(problem.problems[0]).toMatchObject({ path: at, message: expect.stringContaining(message) as unknown });
  });

  it('fills every default into a minimal file', () => {
    expect(fixture('minimal.yaml')).toEqual({
      apiVersion: 'rootlet.dev/v1alpha1',
      kind: 'Cluster',
      name: 'rootlet',
      workers: 0,
      cni: { name: 'flannel' },
      networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16', apiServerAddress: '127.0.0.1', kubeletPort: 10250, vxlanPort: 8472 },
      kubernetes: { featureGates: {}, extraArgs: {}, kubeadmConfigPatches: [] },
      nodes: { labels: {}, extraPortMappings: [], extraMounts: [] },
      wait: '5m',
      hosts: [],
    });
  });

  it('keeps an absolute manifest path and resolves a relative one next to a relative file', () => {
    expect(loadClusterFile('/srv/c.yaml', `${HEADER}cni: {name: antrea, manifest: /opt/antrea.yml}\n`).cni.manifest).toBe('/opt/antrea.yml');
    expect(loadClusterFile('conf/c.yaml', `${HEADER}cni: {manifest: antrea.yml}\n`).cni.manifest).toBe(path.join('conf', 'antrea.yml'));
  });

  it('points at an unknown top-level field and lists the allowed ones', () => {
    const error = fixtureFailure('unknown-field-top.yaml');
    expect(error).toBeInstanceOf(RootletError);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.code).toBe('cluster-file');
    expect(error.message).toBe(`${path.join(FIXTURES, 'unknown-field-top.yaml')}:4:1: worker: unknown field`);
    expect(error.hint).toBe(
      'did you mean workers? fields allowed at the top level: apiVersion, kind, name, image, workers, cni, networking, kubernetes, nodes, wait, hosts',
    );
  });

  it('points at an unknown nested field, at its key', () => {
    const error = fixtureFailure('unknown-field-nested.yaml');
    expect(error.message).toBe(`${path.join(FIXTURES, 'unknown-field-nested.yaml')}:7:3: networking.servicesubnet: unknown field`);
    expect(error.hint).toMatch(/^did you mean serviceSubnet\? fields allowed under networking: podSubnet, serviceSubnet, apiServerPort, /);
  });

  it('names the expected apiVersion', () => {
    const error = fixtureFailure('wrong-api-version.yaml');
    expect(error.message).toBe(`${path.join(FIXTURES, 'wrong-api-version.yaml')}:1:13: apiVersion: "kind.x-k8s.io/v1alpha4" is not a version rootlet reads`);
    expect(error.hint).toBe('write apiVersion: rootlet.dev/v1alpha1');
  });

  it('refuses a CIDR that is not one', () => {
    const error = fixtureFailure('bad-cidr.yaml');
    expect(error.message).toBe(
      `${path.join(FIXTURES, 'bad-cidr.yaml')}:4:14: networking.podSubnet: "10.244.0.0/33" is not an IPv4 CIDR such as 10.244.0.0/16 (rootlet's networks are IPv4)`,
    );
  });

  it('refuses overlapping pod and service subnets', () => {
    const error = fixtureFailure('overlapping-subnets.yaml');
    expect(error.message).toBe(
      `${path.join(FIXTURES, 'overlapping-subnets.yaml')}:5:18: networking.serviceSubnet: podSubnet 10.96.0.0/12 and serviceSubnet 10.100.0.0/16 overlap`,
    );
    expect(error.hint).toBe('choose subnets that do not overlap, such as podSubnet 10.244.0.0/16 and serviceSubnet 10.96.0.0/16');
  });

  it('points at the written subnet when the other one is the default', () => {
    const error = textFailure(`${HEADER}networking:\n  podSubnet: 10.96.0.0/12\n`);
    expect(error.message).toBe('/srv/cluster.yaml:4:14: networking.podSubnet: podSubnet 10.96.0.0/12 and serviceSubnet 10.96.0.0/16 overlap');
  });

  it('refuses a duration it cannot read, naming the value', () => {
    const error = fixtureFailure('bad-duration.yaml');
    expect(error.message).toBe(`${path.join(FIXTURES, 'bad-duration.yaml')}:4:7: wait: "5 minutes" is not a duration: write it like 90s, 5m or 1h30m`);
  });

  it('lists every problem in file order, one line each with its hint, and carries them in --json', () => {
    const error = textFailure(
      [
        'apiVersion: rootlet.dev/v1alpha1',
        'kind: Cluster',
        'nmae: dev',
        'workers: 30',
        'kubernetes:',
        '  extraArgs:',
        '    apiServer: [{name: --v, value: 3}]',
        '  kubeadmConfigPatches:',
        '    - kind: InitConfiguration',
        '      patch: {bootstrapTokens: []}',
        'nodes:',
        '  labels: {tier: 3}',
        'wait: 48h',
        '',
      ].join('\n'),
    );
    expect(error.message).toBe('/srv/cluster.yaml: 7 problems');
    expect(error.hint).toMatch(/--print-config/);
    expect(error.details.slice(0, 4)).toEqual([
      '/srv/cluster.yaml:3:1: nmae: unknown field',
      '  hint: did you mean name? fields allowed at the top level: apiVersion, kind, name, image, workers, cni, networking, kubernetes, nodes, wait, hosts',
      '/srv/cluster.yaml:4:10: workers: must be at most 20: more nodes on one host need more than a workstation',
      '/srv/cluster.yaml:7:24: kubernetes.extraArgs.apiServer[0].name: write the flag name without dashes: "v"',
    ]);
    expect(error.details.filter((line) => line.startsWith('/srv/cluster.yaml:'))).toHaveLength(7);
    const json = error.toJSON();
    expect(json).toMatchObject({ code: 'cluster-file', exitCode: ExitCode.usage, file: '/srv/cluster.yaml' });
    expect(json.problems[0]).toEqual({
      line: 3,
      col: 1,
      path: 'nmae',
      message: 'unknown field',
      hint: expect.stringMatching(/^did you mean name\?/) as unknown,
    });
    expect(error.problems.map(({ line, col, path: at, message }) => `${line}:${col} ${at}: ${message}`)).toEqual([
      '3:1 nmae: unknown field',
      '4:10 workers: must be at most 20: more nodes on one host need more than a workstation',
      '7:24 kubernetes.extraArgs.apiServer[0].name: write the flag name without dashes: "v"',
      '7:36 kubernetes.extraArgs.apiServer[0].value: must be a string: quote it, as in value: "3"',
      '10:32 kubernetes.kubeadmConfigPatches[0].patch.bootstrapTokens: bootstrapTokens cannot be patched: rootlet generates a short-lived token for each cluster and keeps it out of logs',
      '12:18 nodes.labels.tier: must be a string: quote it, as in "3"',
      '13:7 wait: "48h" is longer than 24h',
    ]);
  });

  it.each([
    ['', '1:1: the file is empty'],
    ['- a\n', '1:1: must be a mapping, not a list'],
    ['name: dev\n', '1:1: apiVersion: is required'],
    ['kind: Cluster\nkind: Cluster\n', '2:1: kind: is written twice (first on line 1)'],
    [`${HEADER}name: [dev\n`, '4:1: Flow sequence'],
    [`${HEADER}---\n${HEADER}`, '3:1: a second YAML document (after ---)'],
  ])('reports a file that is no cluster file: %j', (text, expected) => {
    const error = textFailure(text);
    expect([error.message, ...error.details].join('\n')).toContain(`/srv/cluster.yaml:${expected}`);
    expect(error.problems[0]!.hint).toBeTruthy();
  });

  it('points at an empty value by its key', () => {
    expect(textFailure(`${HEADER}image:\n`).message).toBe(
      '/srv/cluster.yaml:3:1: image: must be an image reference such as localhost/rootlet-node:v1.33.1, not empty',
    );
  });

  it.each([
    ['name: Dev', '3:7: name: "Dev" is not a DNS label: use lowercase letters, digits and "-"'],
    [`name: ${'a'.repeat(41)}`, '3:7: name: must be at most 40 characters'],
    ['workers: 1.5', '3:10: workers: must be a whole number of local workers'],
    ['cni: {name: calico}', '3:13: cni.name: "calico" is not a CNI rootlet installs: use flannel, antrea, none'],
    ['cni: {name: none, manifest: x.yml}', '3:29: cni.manifest: a manifest needs a CNI to install: name is none'],
    ['networking: {podSubnet: 10.244.1.0/16}', '3:25: networking.podSubnet: "10.244.1.0/16" has host bits set'],
    ['networking: {serviceSubnet: 10.0.0.0/11}', '3:29: networking.serviceSubnet: 10.0.0.0/11 is larger than the API server accepts'],
    ['networking: {podSubnet: fd00:10:244::/56}', '3:25: networking.podSubnet: "fd00:10:244::/56" is not an IPv4 CIDR'],
    ['networking: {apiServerPort: 10250}', '3:29: networking.apiServerPort: 10250 is also the kubeletPort'],
    ['networking: {kubeletPort: 70000}', '3:27: networking.kubeletPort: must be a port from 1 to 65535'],
    ['networking: {apiServerAddress: localhost}', '3:32: networking.apiServerAddress: "localhost" is not an IP address'],
    [
      'workers: 3\nnetworking: {podSubnet: 10.244.0.0/23}',
      '4:25: networking.podSubnet: 10.244.0.0/23 holds 2 node ranges (a /24 each) but the cluster has 4 nodes',
    ],
    ['kubernetes: {featureGates: {KubeletInUserNamespace: false}}', '3:53: kubernetes.featureGates.KubeletInUserNamespace: cannot be off'],
    ['kubernetes: {featureGates: {sidecar: true}}', '3:29: kubernetes.featureGates.sidecar: "sidecar" is not a feature gate name'],
    ['kubernetes: {featureGates: {SidecarContainers: yes}}', '3:48: kubernetes.featureGates.SidecarContainers: must be true or false, not "yes"'],
    [
      'kubernetes: {userNamespacedPods: false, featureGates: {UserNamespacesSupport: true}}',
      '3:34: kubernetes.userNamespacedPods: is false but feature gate UserNamespacesSupport is true',
    ],
    ['kubernetes: {extraArgs: {etcd: []}}', '3:26: kubernetes.extraArgs.etcd: unknown field'],
    ['kubernetes: {kubeadmConfigPatches: [{kind: Foo, patch: {}}]}', '3:44: kubernetes.kubeadmConfigPatches[0].kind: "Foo" is not a kind rootlet renders'],
    [
      'kubernetes: {kubeadmConfigPatches: [{kind: KubeletConfiguration, patch: {featureGates: {KubeletInUserNamespace: false}}}]}',
      '3:113: kubernetes.kubeadmConfigPatches[0].patch.featureGates.KubeletInUserNamespace: feature gate KubeletInUserNamespace cannot be off',
    ],
    [
      'kubernetes: {kubeadmConfigPatches: [{kind: JoinConfiguration, patch: {discovery: {}}}]}',
      '3:82: kubernetes.kubeadmConfigPatches[0].patch.discovery: discovery cannot be patched',
    ],
    [
      'nodes: {labels: {node-role.kubernetes.io/worker: ""}}',
      '3:50: nodes.labels["node-role.kubernetes.io/worker"]: the kubelet may not set node-role.kubernetes.io/worker',
    ],
    ['nodes: {labels: {example.com/tier: "a b"}}', '3:36: nodes.labels["example.com/tier"]: "a b" is not a label value'],
  ])('refuses %s', (line, expected) => {
    expect(textFailure(`${HEADER}${line}\n`).message).toContain(`/srv/cluster.yaml:${expected}`);
  });

  it('accepts the labels a kubelet may set on its own node', () => {
    const labels = { 'node.kubernetes.io/instance-type': 'lab', 'topology.kubernetes.io/zone': 'a', 'rootlet.dev/pool': 'x', plain: '' };
    expect(loadClusterFile('/c.yaml', `${HEADER}nodes: {labels: ${JSON.stringify(labels)}}\n`).nodes.labels).toEqual(labels);
  });

  it('says how to label nodes with a role', () => {
    expect(textFailure(`${HEADER}nodes: {labels: {node-role.kubernetes.io/worker: ""}}\n`).hint).toBe(
      'set it after the cluster is up: kubectl label node NODE node-role.kubernetes.io/worker=',
    );
  });

  it('lets a controller-manager node mask replace the /24 per node', () => {
    const text = `${HEADER}workers: 3\nnetworking: {podSubnet: 10.244.0.0/23}\nkubernetes: {extraArgs: {controllerManager: [{name: node-cidr-mask-size, value: "26"}]}}\n`;
    expect(loadClusterFile('/c.yaml', text).networking.podSubnet).toBe('10.244.0.0/23');
  });
  it('leaves ports below 1024 to the host: the file cannot know its ip_unprivileged_port_start, doctor checks it', () => {
    const file = loadClusterFile('/c.yaml', `${HEADER}hosts: [{address: n2, extraPortMappings: [{containerPort: 30080, hostPort: 80}]}]\n`);
    expect(file.hosts[0]!.extraPortMappings[0]).toEqual({ containerPort: 30080, hostPort: 80, protocol: 'tcp' });
  });

  it('reports a typo of a required field once, as the typo, wherever it is', () => {
    for (const [body, expected] of [
      ['hosts: [{adress: n2}]', 'hosts[0].adress: unknown field'],
      ['kubernetes: {kubeadmConfigPatches: [{kind: KubeletConfiguration, pach: {}}]}', 'kubernetes.kubeadmConfigPatches[0].pach: unknown field'],
      ['kubernetes: {extraArgs: {kubelet: [{name: v, valeu: "2"}]}}', 'kubernetes.extraArgs.kubelet[0].valeu: unknown field'],
      ['apiVersoin: rootlet.dev/v1alpha1\nkind: Cluster', 'apiVersoin: unknown field'],
    ] as const) {
      const error = textFailure(body.startsWith('apiVersoin') ? `${body}\n` : `${HEADER}${body}\n`);
      expect(error.problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([expected]);
      expect(error.hint).toMatch(/^did you mean (address|patch|value|apiVersion)\? /);
    }
  });
});

describe('loadClusterFileFrom (-f FILE, -f -, ./rootlet.yaml)', () => {
  let dir: string;
  const notes: string[] = [];
  const from = (file: string | undefined, stdin?: string) =>
    loadClusterFileFrom(new LocalHost(), file, {
      cwd: dir,
      note: (line) => notes.push(line),
      ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
    });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-cluster-file-'));
    notes.length = 0;
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('reads nothing without -f when the directory has no rootlet.yaml', async () => {
    expect(await from(undefined)).toBeUndefined();
    expect(notes).toEqual([]);
  });

  it('reads ./rootlet.yaml without -f, and says so', async () => {
    await writeFile(path.join(dir, 'rootlet.yaml'), `${HEADER}name: found\ncni: {manifest: cni.yml}\n`);
    const file = await from(undefined);
    expect(file).toMatchObject({ name: 'found', cni: { manifest: path.join(dir, 'cni.yml') } });
    expect(notes).toEqual(['using ./rootlet.yaml']);
  });

  it('reads standard input for -f -, its relative paths from the working directory', async () => {
    const file = await from('-', `${HEADER}hosts: [{address: n2, identity: keys/n2}]\n`);
    expect(file?.hosts[0]?.identity).toBe(path.join(dir, 'keys/n2'));
    const error = await from('-', `${HEADER}workers: many\n`).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ exitCode: ExitCode.usage, message: '<stdin>:3:10: workers: must be a whole number of local workers, not "many"' });
  });

  it('takes -f relative to the working directory, and names a file it cannot read', async () => {
    await writeFile(path.join(dir, 'lab.yaml'), `${HEADER}name: lab\n`);
    expect((await from('lab.yaml'))?.name).toBe('lab');
    await expect(from('missing.yaml')).rejects.toMatchObject({
      exitCode: ExitCode.usage,
      message: 'cannot read the cluster file missing.yaml: no such file',
      hint: expect.stringContaining('- for standard input') as unknown,
    });
    await expect(from('.')).rejects.toThrow('cannot read the cluster file .: it is a directory, not a file');
  });
});

describe('parseDuration', () => {
  it.each([
    ['5m', 300_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['0s', 0],
    [' 2m ', 120_000],
    ['24h', 86_400_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['5', '5 m', '-5m', '5ms', '1d', 'm', '', '5m30'])('refuses %j, naming it', (text) => {
    expect(() => parseDuration(text)).toThrow(
      expect.objectContaining({ exitCode: ExitCode.usage, message: `${JSON.stringify(text)} is not a duration: write it like 90s, 5m or 1h30m` }),
    );
  });

  it('refuses more than a day', () => {
    expect(() => parseDuration('25h')).toThrow('"25h" is longer than 24h');
  });

  it('is the default wait', () => {
    expect(DEFAULT_WAIT_MS).toBe(5 * 60_000);
  });
});

describe('mergeClusterOptions', () => {
  it('is all defaults with no file and no flags', () => {
    expect(mergeClusterOptions(undefined, {})).toEqual({
      name: 'rootlet',
      image: undefined,
      workers: 0,
      cni: { name: 'flannel' },
      networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16', apiServerAddress: '127.0.0.1', kubeletPort: 10250, vxlanPort: 8472 },
      kubernetes: { featureGates: {}, extraArgs: {}, kubeadmConfigPatches: [] },
      nodes: { labels: {}, extraPortMappings: [], extraMounts: [] },
      hosts: [],
      waitMs: DEFAULT_WAIT_MS,
    });
  });

  it('takes the file over the defaults', () => {
    const options = mergeClusterOptions(fixture('full.yaml'), {});
    expect(options).toMatchObject({ name: 'dev', workers: 2, networking: { apiServerPort: 7443, kubeletPort: 11250 }, waitMs: 5_400_000 });
    expect(options).not.toHaveProperty('apiVersion');
    expect(options).not.toHaveProperty('wait');
  });

  it('takes the flags the user gave over the file, and only those', () => {
    const file = fixture('full.yaml');
    const options = mergeClusterOptions(file, { name: 'ci', workers: 0, wait: '90s', apiServerPort: 8443, image: undefined, podSubnet: undefined });
    expect(options).toMatchObject({
      name: 'ci',
      image: 'localhost/rootlet-node:v1.33.1',
      workers: 0,
      networking: { podSubnet: '10.250.0.0/16', apiServerPort: 8443, kubeletPort: 11250 },
      waitMs: 90_000,
    });
    expect(options.kubernetes).toEqual(file.kubernetes);
    expect(file.name).toBe('dev');
  });

  it('ignores what is not a cluster flag', () => {
    const flags = { json: true, engine: 'podman', retain: false, workers: 1 };
    expect(mergeClusterOptions(undefined, flags).workers).toBe(1);
  });

  it('drops the file’s manifest when --cni names another CNI, keeps it for the same one', () => {
    const file = fixture('full.yaml');
    expect(mergeClusterOptions(file, { cni: 'antrea' }).cni).toEqual({ name: 'antrea' });
    expect(mergeClusterOptions(file, { cni: 'flannel' }).cni.manifest).toBe(file.cni.manifest);
    expect(mergeClusterOptions(file, { cni: 'antrea', cniManifest: 'antrea.yml' }).cni).toEqual({ name: 'antrea', manifest: 'antrea.yml' });
  });

  it('checks flags and file together, naming the flag', () => {
    expect(() => mergeClusterOptions(fixture('full.yaml'), { apiServerPort: 11250 })).toThrow(
      expect.objectContaining({ exitCode: ExitCode.usage, message: '--api-server-port: 11250 is also the kubeletPort' }),
    );
    expect(() => mergeClusterOptions(undefined, { podSubnet: '10.96.0.0/12' })).toThrow(
      '--pod-subnet: podSubnet 10.96.0.0/12 and serviceSubnet 10.96.0.0/16 overlap',
    );
    expect(() => mergeClusterOptions(undefined, { wait: 'soon' })).toThrow('--wait: "soon" is not a duration');
    expect(() => mergeClusterOptions(undefined, { workers: 21 })).toThrow('--workers: must be at most 20');
    expect(() => mergeClusterOptions(fixture('minimal.yaml'), { cni: 'none', cniManifest: 'x.yml' })).toThrow(
      '--cni-manifest: a manifest needs a CNI to install',
    );
  });
});

describe('schema/cluster.schema.json', () => {
  it('is what z.toJSONSchema makes of the schema (regenerate: UPDATE_SCHEMA=1 npx vitest run --project fast test/unit/config-cluster-file.test.ts)', async () => {
    const generated = await format(JSON.stringify(z.toJSONSchema(ClusterFileSchema, { io: 'input' })), {
      ...(await resolveConfig(SCHEMA_FILE)),
      filepath: SCHEMA_FILE,
    });
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(SCHEMA_FILE, generated);
    let committed: string;
    try {
      committed = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      committed = '';
    }
    // toBe prints a line diff on failure.
    expect(committed, 'schema/cluster.schema.json is out of date: UPDATE_SCHEMA=1 npx vitest run --project fast test/unit/config-cluster-file.test.ts').toBe(
      generated,
    );
  });

  it('describes the fields the loader reads', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(Object.keys(ClusterFileSchema.shape));
    expect(schema.required).toEqual(['apiVersion', 'kind']);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('renderClusterFile (up --print-config)', () => {
  it.each([
    ['full.yaml', {}],
    ['multi-host.yaml', { name: 'other', wait: '90s' }],
    ['minimal.yaml', { workers: 3, wait: '1h', image: 'localhost/n:1' }],
    ['minimal.yaml', { wait: '0' }],
  ] as const)('writes %s with flags %j so that loading it back gives the same cluster', (name, flags) => {
    const options = mergeClusterOptions(fixture(name), flags);
    const text = renderClusterFile(options);
    expect(mergeClusterOptions(loadClusterFile('/srv/printed.yaml', text), {})).toEqual(options);
    expect(text).toMatch(/^apiVersion: rootlet.dev\/v1alpha1\nkind: Cluster\n/);
  });
});
