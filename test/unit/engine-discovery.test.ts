import { describe, expect, it, vi } from 'vitest';
import { socketCandidates, type DiscoveryInput } from '../../src/engine/discovery.js';

const UID = 1000;

function candidates(input: Partial<DiscoveryInput> = {}) {
  return socketCandidates({ env: {}, uid: UID, ...input });
}

function paths(input: Partial<DiscoveryInput> = {}): string[] {
  return candidates(input).map((candidate) => candidate.path);
}

describe('socketCandidates order', () => {
  it('tries only --engine-socket when it is given, whatever the environment says', () => {
    const found = candidates({
      explicit: '/srv/engine.sock',
      env: { CONTAINER_HOST: 'unix:///tmp/container-host.sock', DOCKER_HOST: 'unix:///tmp/docker-host.sock', XDG_RUNTIME_DIR: `/run/user/${UID}` },
    });
    expect(found).toEqual([{ path: '/srv/engine.sock', source: '--engine-socket', kind: undefined }]);
  });

  it('tries CONTAINER_HOST, DOCKER_HOST, then the Podman and Docker sockets of $XDG_RUNTIME_DIR', () => {
    const found = candidates({
      env: {
        CONTAINER_HOST: 'unix:///tmp/container-host.sock',
        DOCKER_HOST: 'unix:///tmp/docker-host.sock',
        XDG_RUNTIME_DIR: `/run/user/${UID}`,
      },
    });
    expect(found).toEqual([
      { path: '/tmp/container-host.sock', source: 'CONTAINER_HOST', kind: undefined },
      { path: '/tmp/docker-host.sock', source: 'DOCKER_HOST', kind: undefined },
      { path: '/run/user/1000/podman/podman.sock', source: '$XDG_RUNTIME_DIR/podman/podman.sock', kind: 'podman' },
      { path: '/run/user/1000/docker.sock', source: '$XDG_RUNTIME_DIR/docker.sock', kind: 'docker' },
    ]);
  });

  it('strips unix:// from an explicit socket and keeps a bare path as it is', () => {
    expect(paths({ explicit: 'unix:///srv/podman.sock' })[0]).toBe('/srv/podman.sock');
    expect(paths({ explicit: '/srv/podman.sock' })[0]).toBe('/srv/podman.sock');
  });

  it('lists tcp:// and ssh:// values of CONTAINER_HOST and DOCKER_HOST as unusable, so the error names them', () => {
    const found = candidates({
      env: { CONTAINER_HOST: 'ssh://core@host/run/podman/podman.sock', DOCKER_HOST: 'tcp://127.0.0.1:2375', XDG_RUNTIME_DIR: '/run/user/1000' },
    });
    expect(found.map((candidate) => [candidate.source, candidate.unusable === undefined ? 'tried' : 'listed'])).toEqual([
      ['CONTAINER_HOST', 'listed'],
      ['DOCKER_HOST', 'listed'],
      ['$XDG_RUNTIME_DIR/podman/podman.sock', 'tried'],
      ['$XDG_RUNTIME_DIR/docker.sock', 'tried'],
    ]);
    expect(found[1]!.unusable).toMatch(/^not a unix socket/);
  });

  it('falls back to /run/user/UID when XDG_RUNTIME_DIR is unset (an SSH session without logind)', () => {
    expect(candidates({ uid: 1234 })).toEqual([
      { path: '/run/user/1234/podman/podman.sock', source: '/run/user/1234/podman/podman.sock', kind: 'podman' },
      { path: '/run/user/1234/docker.sock', source: '/run/user/1234/docker.sock', kind: 'docker' },
    ]);
  });

  it('treats an empty XDG_RUNTIME_DIR as unset', () => {
    expect(paths({ env: { XDG_RUNTIME_DIR: '' } })).toEqual(['/run/user/1000/podman/podman.sock', '/run/user/1000/docker.sock']);
  });

  it('tries $XDG_RUNTIME_DIR first and /run/user/UID after it when the two differ', () => {
    const found = candidates({ env: { XDG_RUNTIME_DIR: '/tmp/xdg-alice' } });
    expect(found.map(({ path, source }) => [path, source])).toEqual([
      ['/tmp/xdg-alice/podman/podman.sock', '$XDG_RUNTIME_DIR/podman/podman.sock'],
      ['/tmp/xdg-alice/docker.sock', '$XDG_RUNTIME_DIR/docker.sock'],
      ['/run/user/1000/podman/podman.sock', '/run/user/1000/podman/podman.sock'],
      ['/run/user/1000/docker.sock', '/run/user/1000/docker.sock'],
    ]);
  });

  it('reads only the env it is given, never process.env', () => {
    vi.stubEnv('XDG_RUNTIME_DIR', '/from/process/env');
    vi.stubEnv('CONTAINER_HOST', 'unix:///from/process/env.sock');
    vi.stubEnv('DOCKER_HOST', 'unix:///from/process/docker.sock');
    expect(paths({ env: {} })).toEqual(['/run/user/1000/podman/podman.sock', '/run/user/1000/docker.sock']);
  });
});

describe('socketCandidates de-duplication', () => {
  it('lists a path once, under its first source, when XDG_RUNTIME_DIR is /run/user/UID', () => {
    const found = candidates({ env: { XDG_RUNTIME_DIR: '/run/user/1000' } });
    expect(found.map((candidate) => candidate.source)).toEqual(['$XDG_RUNTIME_DIR/podman/podman.sock', '$XDG_RUNTIME_DIR/docker.sock']);
  });

  it('keeps CONTAINER_HOST in its place and drops the conventional path it repeats', () => {
    const found = candidates({ env: { CONTAINER_HOST: 'unix:///run/user/1000/podman/podman.sock', XDG_RUNTIME_DIR: '/run/user/1000' } });
    expect(found).toEqual([
      { path: '/run/user/1000/podman/podman.sock', source: 'CONTAINER_HOST', kind: undefined },
      { path: '/run/user/1000/docker.sock', source: '$XDG_RUNTIME_DIR/docker.sock', kind: 'docker' },
    ]);
  });

  it('lists DOCKER_HOST once when it repeats the conventional Docker socket', () => {
    const found = candidates({ env: { DOCKER_HOST: 'unix:///run/user/1000/docker.sock', XDG_RUNTIME_DIR: '/run/user/1000' } });
    expect(found.map((candidate) => [candidate.path, candidate.source])).toEqual([
      ['/run/user/1000/docker.sock', 'DOCKER_HOST'],
      ['/run/user/1000/podman/podman.sock', '$XDG_RUNTIME_DIR/podman/podman.sock'],
    ]);
  });

  it('never returns the same path twice, whatever the sources', () => {
    const found = paths({
      env: { CONTAINER_HOST: 'unix:///run/user/1000/podman/podman.sock', DOCKER_HOST: 'unix:///run/user/1000/docker.sock', XDG_RUNTIME_DIR: '/run/user/1000' },
    });
    expect(found).toEqual(['/run/user/1000/podman/podman.sock', '/run/user/1000/docker.sock']);
  });
});

describe('socketCandidates with --engine', () => {
  const env = {
    CONTAINER_HOST: 'unix:///tmp/container-host.sock',
    DOCKER_HOST: 'unix:///tmp/docker-host.sock',
    XDG_RUNTIME_DIR: '/tmp/xdg',
  };

  it('with podman, drops the Docker sockets and keeps candidates of unknown kind', () => {
    const found = candidates({ engine: 'podman', env });
    expect(found.map((candidate) => candidate.path)).toEqual([
      '/tmp/container-host.sock',
      '/tmp/docker-host.sock',
      '/tmp/xdg/podman/podman.sock',
      '/run/user/1000/podman/podman.sock',
    ]);
    expect(found.map((candidate) => candidate.kind)).not.toContain('docker');
  });

  it('with docker, drops the Podman sockets and keeps candidates of unknown kind', () => {
    const found = candidates({ engine: 'docker', env });
    expect(found.map((candidate) => candidate.path)).toEqual([
      '/tmp/container-host.sock',
      '/tmp/docker-host.sock',
      '/tmp/xdg/docker.sock',
      '/run/user/1000/docker.sock',
    ]);
    expect(found.map((candidate) => candidate.kind)).not.toContain('podman');
  });

  it('without --engine, offers both kinds', () => {
    const kinds = candidates({ env }).map((candidate) => candidate.kind);
    expect(kinds).toContain('podman');
    expect(kinds).toContain('docker');
  });
});
