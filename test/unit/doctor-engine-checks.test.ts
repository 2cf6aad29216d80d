import { afterAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/engine/connect.js';
import type { EngineInfo } from '../../src/engine/types.js';
import type { Finding } from '../../src/doctor/finding.js';
import { runDoctor, type DoctorRequest } from '../../src/doctor/run.js';
import { LocalHost } from '../../src/host/local-host.js';
import { materialize, removeTree } from '../support/sysroot.js';

const trees: string[] = [];
afterAll(async () => Promise.all(trees.map(removeTree)));

async function doctor(name: string, request: DoctorRequest = {}): Promise<Map<string, Finding>> {
  const root = await materialize(name);
  trees.push(root);
  const report = await runDoctor(new LocalHost({ root }), { user: 'alice', ...request });
  return new Map(report.findings.map((finding) => [finding.id, finding]));
}

const podman: EngineInfo = {
  kind: 'podman',
  version: '5.2.1',
  rootless: true,
  cgroupVersion: 2,
  cgroupDriver: 'systemd',
  controllers: ['cpu', 'memory', 'pids'],
  rootlessNetwork: 'pasta',
  networkBackend: 'netavark',
  storageDriver: 'overlay',
  socket: '/run/user/1000/podman/podman.sock',
};

/** A probe result as the engine layer reports it: plain data, as the CLI hands it to doctor. */
function answered(info: EngineInfo): Connection {
  return { engine: { info } as Connection['engine'], attempts: [] };
}

describe('engine checks', () => {
  it('warns about pasta on Podman with the slirp4netns remedy', async () => {
    const findings = await doctor('fedora', { probe: answered(podman) });
    expect(findings.get('engine.reachable')).toMatchObject({ status: 'pass', summary: 'Podman at /run/user/1000/podman/podman.sock answers (podman 5.2.1)' });
    expect(findings.get('engine.rootless')!.status).toBe('pass');
    expect(findings.get('engine.version')).toMatchObject({ status: 'pass', summary: 'podman 5.2.1 (rootlet needs 4.0 or newer)' });
    const network = findings.get('engine.network')!;
    expect(network.status).toBe('warn');
    expect(network.remedy).toContain('default_rootless_network_cmd = "slirp4netns"');
    expect(network.remedy).toContain('containers.conf.d/slirp4netns.conf');
  });

  it('fails a rootful engine, or warns when --allow-rootful accepts it', async () => {
    const rootful = answered({ ...podman, kind: 'docker', version: '27.3.1', rootless: false, rootlessNetwork: 'host', socket: '/var/run/docker.sock' });
    const refused = (await doctor('fedora', { probe: rootful })).get('engine.rootless')!;
    expect(refused.status).toBe('fail');
    expect(refused.summary).toBe('Docker at /var/run/docker.sock runs as root: its containers would give the cluster root on this host');
    expect((await doctor('fedora', { probe: rootful, allowRootful: true })).get('engine.rootless')!.status).toBe('warn');
  });

  it('fails engines older than Podman 4.0 and Docker 20.10', async () => {
    const old = (await doctor('fedora', { probe: answered({ ...podman, version: '3.4.4' }) })).get('engine.version')!;
    expect(old).toMatchObject({ status: 'fail', summary: 'podman 3.4.4 is older than 4.0' });
  });

  it('lists every socket tried when none answers, and skips what needs an engine', async () => {
    const none: Connection = {
      engine: undefined,
      attempts: [
        { candidate: { path: '/run/user/1000/podman/podman.sock', source: '$XDG_RUNTIME_DIR/podman/podman.sock', kind: 'podman' }, outcome: 'no socket there' },
        {
          candidate: { path: '/run/user/1000/docker.sock', source: '$XDG_RUNTIME_DIR/docker.sock', kind: 'docker' },
          outcome: 'nothing listening (the engine service is stopped)',
        },
      ],
    };
    const findings = await doctor('fedora', { probe: none });
    expect(findings.get('engine.reachable')).toMatchObject({
      status: 'fail',
      summary:
        'no Podman or Docker answered; tried /run/user/1000/podman/podman.sock: no socket there; /run/user/1000/docker.sock: nothing listening (the engine service is stopped)',
    });
    expect(findings.get('engine.reachable')!.remedy).toContain('systemctl --user enable --now podman.socket');
    for (const id of ['engine.rootless', 'engine.version', 'engine.network']) expect(findings.get(id)!.status).toBe('skip');
  });

  it('skips every engine check with --no-engine', async () => {
    const findings = await doctor('fedora', { noEngine: true });
    for (const id of ['engine.reachable', 'engine.rootless', 'engine.version', 'engine.network']) {
      expect(findings.get(id)).toMatchObject({ status: 'skip', summary: 'not checked (--no-engine, or --sysroot: a tree has no running engine)' });
    }
  });
});

describe('ports.free', () => {
  it('passes when nothing holds the ports', async () => {
    expect((await doctor('fedora')).get('ports.free')).toMatchObject({ status: 'pass', summary: '6443/tcp, 10250/tcp, 8472/udp free on this host' });
  });

  it('names each held port, its purpose and address; an established connection holds nothing', async () => {
    const finding = (await doctor('ports-taken', { ports: [...defaultPorts(), { port: 7000, protocol: 'tcp', purpose: 'extra' }] })).get('ports.free')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toBe('6443/tcp (API server) is in use on 127.0.0.1; 10250/tcp (kubelet) is in use on ::; 8472/udp (VXLAN) is in use on 0.0.0.0');
    expect(finding.remedy).toContain("ss -ltnup 'sport = :6443'");
  });

  it('checks a port published on one address against that address and the wildcards only', async () => {
    const on = (address: string) => [
      { port: 6443, protocol: 'tcp' as const, purpose: 'API server', address },
      { port: 10250, protocol: 'tcp' as const, purpose: 'kubelet', address },
    ];
    // 6443 is held on 127.0.0.1 only: free on another address; 10250 on ::, which takes every address.
    expect((await doctor('ports-taken', { ports: on('10.77.0.2') })).get('ports.free')).toMatchObject({
      status: 'fail',
      summary: '10250/tcp (kubelet) is in use on ::',
    });
    expect((await doctor('ports-taken', { ports: on('127.0.0.1') })).get('ports.free')!.summary).toContain('6443/tcp (API server) is in use on 127.0.0.1');
    expect((await doctor('ports-taken', { ports: [on('10.77.0.2')[0]!] })).get('ports.free')).toMatchObject({
      status: 'pass',
      summary: '10.77.0.2:6443/tcp free on this host',
    });
  });
});

function defaultPorts() {
  return [
    { port: 6443, protocol: 'tcp' as const, purpose: 'API server' },
    { port: 10250, protocol: 'tcp' as const, purpose: 'kubelet' },
    { port: 8472, protocol: 'udp' as const, purpose: 'VXLAN' },
  ];
}
