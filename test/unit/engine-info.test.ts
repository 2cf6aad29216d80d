import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dockerEngineInfo, podmanEngineInfo, versionSupported, type DockerInfo, type PodmanInfo } from '../../src/engine/engine-info.js';
import type { EngineKind } from '../../src/engine/types.js';

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/engines/${name}`, import.meta.url), 'utf8')) as T;
}

const PODMAN_SOCKET = '/run/user/1000/podman/podman.sock';
const DOCKER_SOCKET = '/run/user/1000/docker.sock';

describe('podmanEngineInfo', () => {
  it('maps the libpod /info of rootless Podman 4.3 on Debian 12 (cgroup v1, CNI, slirp4netns)', () => {
    const info = podmanEngineInfo(fixture<PodmanInfo>('podman-4.3-libpod-info.json'), PODMAN_SOCKET);
    expect(info).toEqual({
      kind: 'podman',
      version: '4.3.1',
      rootless: true,
      cgroupVersion: 1,
      cgroupDriver: 'cgroupfs',
      controllers: [],
      rootlessNetwork: 'slirp4netns',
      networkBackend: 'cni',
      storageDriver: 'overlay',
      socket: PODMAN_SOCKET,
    });
  });

  it('takes rootlessNetworkCmd "pasta" of Podman 5 over an installed slirp4netns', () => {
    const podman5: PodmanInfo = {
      host: {
        cgroupVersion: 'v2',
        cgroupManager: 'systemd',
        cgroupControllers: ['cpu', 'memory', 'pids'],
        networkBackend: 'netavark',
        rootlessNetworkCmd: 'pasta',
        pasta: { executable: '/usr/bin/pasta' },
        slirp4netns: { executable: '/usr/bin/slirp4netns' },
        security: { rootless: true },
      },
      store: { graphDriverName: 'overlay' },
      version: { Version: '5.2.1' },
    };
    expect(podmanEngineInfo(podman5, PODMAN_SOCKET)).toMatchObject({
      version: '5.2.1',
      rootless: true,
      cgroupVersion: 2,
      cgroupDriver: 'systemd',
      controllers: ['cpu', 'memory', 'pids'],
      rootlessNetwork: 'pasta',
      networkBackend: 'netavark',
    });
  });

  it('takes slirp4netns when Podman 5 is configured for it, though pasta is installed', () => {
    const info = podmanEngineInfo(
      { host: { rootlessNetworkCmd: 'slirp4netns', pasta: { executable: '/usr/bin/pasta' }, security: { rootless: true } } },
      PODMAN_SOCKET,
    );
    expect(info.rootlessNetwork).toBe('slirp4netns');
  });

  it('says host networking for a rootful Podman, whatever helpers are installed', () => {
    const info = podmanEngineInfo({ host: { slirp4netns: { executable: '/usr/bin/slirp4netns' }, security: { rootless: false } } }, PODMAN_SOCKET);
    expect(info.rootless).toBe(false);
    expect(info.rootlessNetwork).toBe('host');
  });

  it('reports unknown rather than guessing when Podman leaves fields out', () => {
    const info = podmanEngineInfo({ host: { security: { rootless: true } } }, PODMAN_SOCKET);
    expect(info).toMatchObject({
      version: 'unknown',
      cgroupDriver: 'unknown',
      rootlessNetwork: 'unknown',
      networkBackend: 'unknown',
      storageDriver: 'unknown',
    });
  });
});

describe('dockerEngineInfo', () => {
  it('maps the /info of rootless Docker 20.10 on Debian 12, stripping the +dfsg1 suffix', () => {
    const info = dockerEngineInfo(fixture<DockerInfo>('docker-20.10-rootless-info.json'), DOCKER_SOCKET);
    expect(info).toEqual({
      kind: 'docker',
      version: '20.10.24',
      rootless: true,
      cgroupVersion: 1,
      cgroupDriver: 'none',
      controllers: undefined,
      rootlessNetwork: 'rootlesskit',
      networkBackend: 'bridge',
      storageDriver: 'overlay2',
      socket: DOCKER_SOCKET,
    });
  });

  it('maps a rootful Docker (no name=rootless) to rootless false and host networking', () => {
    const info = dockerEngineInfo(
      {
        ServerVersion: '27.3.1',
        SecurityOptions: ['name=apparmor', 'name=seccomp,profile=builtin', 'name=cgroupns'],
        CgroupVersion: '2',
        CgroupDriver: 'systemd',
        Driver: 'overlay2',
      },
      DOCKER_SOCKET,
    );
    expect(info).toMatchObject({ version: '27.3.1', rootless: false, rootlessNetwork: 'host', cgroupVersion: 2, cgroupDriver: 'systemd' });
  });

  it('counts name=rootless among other fields of one SecurityOptions entry', () => {
    const info = dockerEngineInfo({ SecurityOptions: ['name=seccomp,profile=default', 'name=rootless,foo=bar'] }, DOCKER_SOCKET);
    expect(info.rootless).toBe(true);
    expect(info.rootlessNetwork).toBe('rootlesskit');
  });

  it('does not take a name that merely starts with rootless for name=rootless', () => {
    expect(dockerEngineInfo({ SecurityOptions: ['name=rootlessish'] }, DOCKER_SOCKET).rootless).toBe(false);
  });

  it('treats missing SecurityOptions as rootful', () => {
    expect(dockerEngineInfo({ ServerVersion: '24.0.7' }, DOCKER_SOCKET)).toMatchObject({ rootless: false, rootlessNetwork: 'host' });
  });
});

describe('versionSupported', () => {
  it.each<[EngineKind, string, boolean]>([
    ['podman', '3.4.4', false],
    ['podman', '4.0.0', true],
    ['podman', '4.3.1', true],
    ['podman', '5.2.1', true],
    ['docker', '19.03.15', false],
    ['docker', '20.9', false],
    ['docker', '20.10.0', true],
    ['docker', '20.10.24+dfsg1', true],
    ['docker', '27.3.1', true],
  ])('%s %s -> %s', (kind, version, supported) => {
    expect(versionSupported({ kind, version })).toBe(supported);
  });

  it('holds each engine to its own minimum: Docker 5.2.1 is refused, Podman 20.9 accepted', () => {
    expect(versionSupported({ kind: 'docker', version: '5.2.1' })).toBe(false);
    expect(versionSupported({ kind: 'podman', version: '20.9' })).toBe(true);
  });

  it('refuses a version it cannot read', () => {
    expect(versionSupported({ kind: 'podman', version: 'unknown' })).toBe(false);
    expect(versionSupported({ kind: 'docker', version: 'dev' })).toBe(false);
  });
});
