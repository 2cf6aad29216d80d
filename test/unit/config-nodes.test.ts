/** The cluster file's nodes.extraPortMappings and nodes.extraMounts: reading, refusing, printing, and `up` refusing a missing hostPath. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { upCluster } from '../../src/cluster/up.js';
import { ClusterFileError, loadClusterFile, mergeClusterOptions, renderClusterFile } from '../../src/config/load-cluster-file.js';
import { ExitCode, RootletError } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local-host.js';

const HEADER = 'apiVersion: rootlet.dev/v1alpha1\nkind: Cluster\n';

function load(body: string, file = '/srv/rootlet/cluster.yaml') {
  return loadClusterFile(file, `${HEADER}${body}\n`);
}

function problems(body: string): string[] {
  try {
    load(body);
  } catch (error) {
    if (error instanceof ClusterFileError) return error.problems.map(({ line, col, path: at, message }) => `${line}:${col} ${at}: ${message}`);
    throw error;
  }
  throw new Error('expected a ClusterFileError');
}

describe('nodes.extraPortMappings', () => {
  it('defaults protocol to tcp and leaves hostPort and listenAddress to up (containerPort, networking.apiServerAddress)', () => {
    expect(
      load('nodes: {extraPortMappings: [{containerPort: 30080}, {containerPort: 30053, hostPort: 5353, listenAddress: 0.0.0.0, protocol: udp}]}').nodes,
    ).toEqual({
      labels: {},
      extraMounts: [],
      extraPortMappings: [
        { containerPort: 30080, protocol: 'tcp' },
        { containerPort: 30053, hostPort: 5353, listenAddress: '0.0.0.0', protocol: 'udp' },
      ],
    });
  });

  it.each([
    [
      'nodes: {extraPortMappings: [{containerPort: 2379}]}',
      "3:45 nodes.extraPortMappings[0].containerPort: 2379 is etcd's: nothing outside the node talks to etcd",
    ],
    ['nodes: {extraPortMappings: [{containerPort: 80}, {containerPort: 81, hostPort: 80}]}', '3:50 nodes.extraPortMappings[1]: 80/tcp is published twice'],
    [
      'networking: {apiServerPort: 7443}\nnodes: {extraPortMappings: [{containerPort: 80, hostPort: 7443}]}',
      "4:59 nodes.extraPortMappings[0].hostPort: 7443/tcp is the cluster's apiServerPort",
    ],
    [
      'networking: {advertiseAddress: 192.168.1.10}\nnodes: {extraPortMappings: [{containerPort: 10250}]}',
      "4:45 nodes.extraPortMappings[0].containerPort: 10250/tcp is the cluster's kubeletPort",
    ],
    [
      'hosts: [{address: node2}]\nnodes: {extraPortMappings: [{containerPort: 30000, hostPort: 8472, protocol: udp}]}',
      "4:62 nodes.extraPortMappings[0].hostPort: 8472/udp is the cluster's vxlanPort",
    ],
    [
      'nodes: {extraPortMappings: [{containerPort: 80, protocol: sctp}]}',
      '3:59 nodes.extraPortMappings[0].protocol: Invalid option: expected one of "tcp"|"udp"',
    ],
    [
      'nodes: {extraPortMappings: [{containerPort: 80, listenAddress: localhost}]}',
      '3:64 nodes.extraPortMappings[0].listenAddress: "localhost" is not an IP address',
    ],
  ])('refuses %j', (body, problem) => {
    expect(problems(body)[0]).toBe(problem);
  });

  it('lets a one-host cluster publish the kubelet and VXLAN port numbers, which it does not publish itself', () => {
    const nodes = load('nodes: {extraPortMappings: [{containerPort: 30250, hostPort: 10250}, {containerPort: 8472, protocol: udp}]}').nodes;
    expect(nodes.extraPortMappings).toHaveLength(2);
  });

  it('names the typo of a field', () => {
    try {
      load('nodes: {extraPortMappings: [{containerPort: 80, hostport: 8080}]}');
      expect.unreachable();
    } catch (error) {
      expect((error as ClusterFileError).message).toMatch(/:3:49: nodes\.extraPortMappings\[0\]\.hostport: unknown field$/);
      expect((error as ClusterFileError).hint).toMatch(
        /^did you mean hostPort\? fields allowed under nodes\.extraPortMappings\[0\]: containerPort, hostPort, /,
      );
    }
  });
});

describe('nodes.extraMounts', () => {
  it('resolves a relative hostPath against the cluster file’s directory, and keeps an absolute one', () => {
    const mounts = load(
      'nodes:\n  extraMounts:\n    - {hostPath: data, containerPath: /data}\n    - {hostPath: /srv/certs, containerPath: /mnt/certs, readOnly: true}',
    ).nodes.extraMounts;
    expect(mounts).toEqual([
      { hostPath: '/srv/rootlet/data', containerPath: '/data', readOnly: false, propagation: 'none' },
      { hostPath: '/srv/certs', containerPath: '/mnt/certs', readOnly: true, propagation: 'none' },
    ]);
  });

  it('makes the hostPath absolute when the cluster file was named by a relative path', () => {
    const [mount] = loadClusterFile('conf/cluster.yaml', `${HEADER}nodes: {extraMounts: [{hostPath: ../data, containerPath: /data}]}\n`).nodes.extraMounts;
    expect(mount!.hostPath).toBe(path.resolve('data'));
  });

  it.each([['/var/local-path-provisioner'], ['/etc/containerd/certs.d'], ['/mnt/data/'], ['/usr/local/share/ca-certificates/registry.crt']])(
    'accepts containerPath %s',
    (containerPath) => {
      expect(load(`nodes: {extraMounts: [{hostPath: /srv/x, containerPath: "${containerPath}"}]}`).nodes.extraMounts).toHaveLength(1);
    },
  );

  it.each([
    ['data', '"data" is not an absolute path'],
    ['/var', "/var would hide the node's own /var"],
    ['/var/', "/var would hide the node's own /var"],
    ['/', "/ would hide the node's own /var"],
    ['/lib', "/lib would hide the node's own /lib/modules"],
    ['/lib/modules', "/lib/modules would hide the node's own /lib/modules"],
    ['/run', "/run would hide the node's own /run"],
    ['/tmp', "/tmp would hide the node's own /tmp"],
    ['/etc', "/etc would hide the node's own /etc/hosts"],
    ['/etc/resolv.conf', "/etc/resolv.conf would hide the node's own /etc/resolv.conf"],
    ['/dev', '/dev is a kernel filesystem of the node'],
    ['/dev/fuse', '/dev/fuse is inside /dev, a kernel filesystem of the node'],
    ['/sys/fs/cgroup', '/sys/fs/cgroup is inside /sys, a kernel filesystem of the node'],
    ['/mnt/./x/../../proc/1', '/proc/1 is inside /proc, a kernel filesystem of the node'],
    ['/mnt/a:b', '"/mnt/a:b" contains ":", which a bind mount cannot carry'],
  ])('refuses containerPath %s', (containerPath, message) => {
    expect(problems(`nodes: {extraMounts: [{hostPath: /srv/x, containerPath: "${containerPath}"}]}`)[0]).toMatch(
      new RegExp(`^3:\\d+ nodes\\.extraMounts\\[0\\]\\.containerPath: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });

  it.each([
    ['~/data', '"~/data": ~ is not expanded here'],
    ['~alice/data', '"~alice/data": ~ is not expanded here'],
    ['/srv/a:b', '"/srv/a:b" contains ":", which a bind mount cannot carry'],
    ['', 'must be a file path'],
  ])('refuses hostPath %j', (hostPath, message) => {
    expect(problems(`nodes: {extraMounts: [{hostPath: "${hostPath}", containerPath: /data}]}`)[0]).toMatch(
      new RegExp(`^3:\\d+ nodes\\.extraMounts\\[0\\]\\.hostPath: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
  });

  it('refuses two mounts at one containerPath, however it is written', () => {
    expect(problems('nodes:\n  extraMounts:\n    - {hostPath: /srv/a, containerPath: /data}\n    - {hostPath: /srv/b, containerPath: /data/}')).toEqual([
      '6:41 nodes.extraMounts[1].containerPath: /data is mounted twice',
    ]);
  });

  it('refuses propagations other than none and hostToContainer (a node cannot push mounts to the host)', () => {
    expect(problems('nodes: {extraMounts: [{hostPath: /srv/x, containerPath: /x, propagation: bidirectional}]}')[0]).toMatch(
      /^3:\d+ nodes\.extraMounts\[0\]\.propagation: Invalid option: expected one of "none"\|"hostToContainer"$/,
    );
  });
});

describe('up --print-config with nodes', () => {
  it('prints the extra ports and mounts, hostPath absolute, so that loading it back elsewhere gives the same cluster', () => {
    const options = mergeClusterOptions(
      loadClusterFile(
        'conf/cluster.yaml',
        `${HEADER}nodes:\n  extraPortMappings: [{containerPort: 30080, hostPort: 8080}]\n  extraMounts: [{hostPath: data, containerPath: /data, propagation: hostToContainer}]\n`,
      ),
      { workers: 1 },
    );
    const text = renderClusterFile(options);
    expect(text).toContain(`hostPath: ${path.resolve('conf/data')}`);
    expect(mergeClusterOptions(loadClusterFile('/elsewhere/printed.yaml', text), {})).toEqual(options);
  });
});

describe('rootlet up with extra mounts', () => {
  it('refuses a hostPath that does not exist before it touches an engine (exit 2, naming the path)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-mounts-'));
    try {
      const cluster = mergeClusterOptions(
        loadClusterFile(path.join(dir, 'cluster.yaml'), `${HEADER}nodes: {extraMounts: [{hostPath: missing, containerPath: /data}]}\n`),
        {},
      );
      const attempt = upCluster({
        host: new LocalHost(),
        cluster,
        // A socket that does not exist: reaching for the engine would be a different error.
        engine: { socket: path.join(dir, 'no-engine.sock'), kind: undefined, allowRootful: false },
        skipDoctor: true,
        retain: false,
        switchContext: false,
        progress: 'silent',
        signal: new AbortController().signal,
        env: {},
      });
      await expect(attempt).rejects.toBeInstanceOf(RootletError);
      await expect(attempt).rejects.toMatchObject({
        code: 'mount-source-missing',
        exitCode: ExitCode.usage,
        message: `nodes.extraMounts[0].hostPath ${path.join(dir, 'missing')} does not exist`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
