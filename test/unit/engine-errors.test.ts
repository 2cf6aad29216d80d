import { describe, expect, it } from 'vitest';
import { START_ENGINE_HINT, type SocketCandidate } from '../../src/engine/discovery.js';
import { duringStep, engineOperationFailed, engineUnreachable } from '../../src/engine/errors.js';
import { ExitCode, RootletError } from '../../src/errors.js';

const PODMAN = { kind: 'podman', socket: '/run/user/1000/podman/podman.sock' } as const;
const DOCKER = { kind: 'docker', socket: '/run/user/1000/docker.sock' } as const;

/** What docker-modem rejects with when the engine answers an error status with a JSON body. */
function apiError(statusCode: number, reason: string, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${reason} - ${message} `), { statusCode, reason, json: { message } });
}

describe('engineOperationFailed', () => {
  it('maps a rootlessport bind failure to port-in-use, naming the engine, its socket and the operation', () => {
    const cause = { statusCode: 500, json: { message: 'rootlessport listen tcp 127.0.0.1:6443: bind: address already in use' } };
    const error = engineOperationFailed(PODMAN, 'start node demo-control-plane', cause);
    expect(error).toBeInstanceOf(RootletError);
    expect(error.code).toBe('port-in-use');
    expect(error.message).toBe(
      'Podman at /run/user/1000/podman/podman.sock could not start node demo-control-plane: rootlessport listen tcp 127.0.0.1:6443: bind: address already in use',
    );
    expect(error.exitCode).toBe(ExitCode.failure);
    expect(error.hint).toContain('ss -ltnup');
    expect(error.cause).toBe(cause);
  });

  it('maps Docker\'s "port is already allocated" to port-in-use too', () => {
    const error = engineOperationFailed(
      DOCKER,
      'start node demo-control-plane',
      apiError(500, 'server error', 'driver failed programming external connectivity: Bind for 127.0.0.1:6443 failed: port is already allocated'),
    );
    expect(error.code).toBe('port-in-use');
    expect(error.message).toMatch(/^Docker at \/run\/user\/1000\/docker\.sock could not start node demo-control-plane: driver failed/);
  });

  it('maps a refused connection to engine-gone with the engine exit code', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED /run/user/1000/podman/podman.sock'), { code: 'ECONNREFUSED' });
    const error = engineOperationFailed(PODMAN, 'create node demo-worker-1', cause);
    expect(error.code).toBe('engine-gone');
    expect(error.exitCode).toBe(4);
    expect(error.message).toBe('Podman at /run/user/1000/podman/podman.sock stopped answering while rootlet was to create node demo-worker-1');
    expect(error.hint).toContain('start the engine service again');
  });

  it('names the step of the command the engine died in, once the command adds it', () => {
    const gone = engineOperationFailed(DOCKER, 'inspect node demo-worker', { code: 'ECONNREFUSED' });
    const named = duringStep(gone, 'Create and boot the nodes') as RootletError;
    expect(named.message).toBe(
      'Docker at /run/user/1000/docker.sock stopped answering during "Create and boot the nodes" (rootlet was to inspect node demo-worker)',
    );
    expect(named).toMatchObject({ code: 'engine-gone', exitCode: 4, hint: gone.hint });
    // Any other error passes unchanged.
    const other = engineOperationFailed(DOCKER, 'list nodes', { statusCode: 500, json: { message: 'disk full' } });
    expect(duringStep(other, 'Create and boot the nodes')).toBe(other);
  });

  it('treats a vanished socket file and a reset connection as engine-gone as well', () => {
    expect(engineOperationFailed(DOCKER, 'list nodes', { code: 'ENOENT' }).code).toBe('engine-gone');
    expect(engineOperationFailed(DOCKER, 'list nodes', { code: 'ECONNRESET' }).code).toBe('engine-gone');
  });

  it('maps "No such image" to image-missing with a hint to load it and retry the operation', () => {
    const error = engineOperationFailed(DOCKER, 'create node demo-worker-1', apiError(404, 'no such container', 'No such image: x'));
    expect(error.code).toBe('image-missing');
    expect(error.message).toBe('Docker at /run/user/1000/docker.sock could not create node demo-worker-1: No such image: x');
    expect(error.hint).toBe('load the image into the engine first (podman load / docker load), then retry create node demo-worker-1');
  });

  it('maps Podman\'s "image not known" to image-missing', () => {
    expect(engineOperationFailed(PODMAN, 'create node demo-worker-1', { statusCode: 404, json: { message: 'x: image not known' } }).code).toBe('image-missing');
  });

  it("maps Docker's refusal of an rslave bind on a private mount to mount-propagation, naming the setting to change", () => {
    const cause = { statusCode: 500, json: { message: 'path /srv/volumes is mounted on / but it is not a shared or slave mount' } };
    const error = engineOperationFailed(DOCKER, 'start node demo-worker-1', cause);
    expect(error.code).toBe('mount-propagation');
    expect(error.message).toBe(
      'Docker at /run/user/1000/docker.sock could not start node demo-worker-1: path /srv/volumes is mounted on / but it is not a shared or slave mount',
    );
    expect(error.hint).toContain('propagation: none');
  });

  it('maps an unknown message to engine-failed, keeping only its first line', () => {
    const cause = { statusCode: 500, json: { message: 'crun: something unheard of\nat line two' } };
    const error = engineOperationFailed(PODMAN, 'start node demo-worker-1', cause);
    expect(error.code).toBe('engine-failed');
    expect(error.exitCode).toBe(ExitCode.failure);
    expect(error.message).toBe('Podman at /run/user/1000/podman/podman.sock could not start node demo-worker-1: crun: something unheard of');
    expect(error.hint).toContain('--verbose');
  });

  it('strips docker-modem\'s "(HTTP code N) reason -" prefix when the body was not JSON', () => {
    const cause = Object.assign(new Error('(HTTP code 500) server error - page not found '), { statusCode: 500, json: null });
    expect(engineOperationFailed(DOCKER, 'list nodes', cause).message).toBe('Docker at /run/user/1000/docker.sock could not list nodes: page not found');
  });

  it('maps a rejection with no value to engine-failed rather than throwing', () => {
    expect(engineOperationFailed(PODMAN, 'stop node demo-worker-1', undefined).code).toBe('engine-failed');
  });

  it('passes a RootletError through unchanged', () => {
    const original = new RootletError('network-exhausted', 'no free /24');
    expect(engineOperationFailed(PODMAN, 'create network rootlet-demo', original)).toBe(original);
  });
});

describe('engineUnreachable', () => {
  const attempts: Array<{ candidate: SocketCandidate; outcome: string }> = [
    { candidate: { path: '/srv/engine.sock', source: '--engine-socket', kind: undefined }, outcome: 'connect ENOENT' },
    {
      candidate: { path: '/run/user/1000/podman/podman.sock', source: '$XDG_RUNTIME_DIR/podman/podman.sock', kind: 'podman' },
      outcome: 'connect ECONNREFUSED',
    },
    { candidate: { path: '/run/user/1000/docker.sock', source: '$XDG_RUNTIME_DIR/docker.sock', kind: 'docker' }, outcome: 'connect ENOENT' },
  ];

  it('lists every socket tried, with where it came from and why it was not used', () => {
    const error = engineUnreachable(attempts);
    expect(error.code).toBe('engine-unreachable');
    expect(error.message).toBe(
      'no rootless Podman or Docker answered; tried /srv/engine.sock (--engine-socket): connect ENOENT; ' +
        '/run/user/1000/podman/podman.sock ($XDG_RUNTIME_DIR/podman/podman.sock): connect ECONNREFUSED; ' +
        '/run/user/1000/docker.sock ($XDG_RUNTIME_DIR/docker.sock): connect ENOENT',
    );
  });

  it('exits 4 and names how to start either engine', () => {
    const error = engineUnreachable(attempts);
    expect(error.exitCode).toBe(4);
    expect(error.hint).toBe(START_ENGINE_HINT);
    expect(error.hint).toContain('systemctl --user enable --now podman.socket');
    expect(error.hint).toContain('dockerd-rootless-setuptool.sh install');
    expect(error.toJSON()).toMatchObject({ code: 'engine-unreachable', exitCode: 4, hint: START_ENGINE_HINT });
  });

  it('names the one engine asked for (--engine) when only its sockets were tried', () => {
    const podmanOnly = attempts.filter(({ candidate }) => candidate.kind === 'podman');
    expect(engineUnreachable(podmanOnly).message).toBe(
      'no rootless Podman answered; tried /run/user/1000/podman/podman.sock ($XDG_RUNTIME_DIR/podman/podman.sock): connect ECONNREFUSED',
    );
    expect(engineUnreachable(attempts.filter(({ candidate }) => candidate.kind === 'docker')).message).toMatch(/^no rootless Docker answered; /);
  });

  it('says it tried nothing when there was no candidate', () => {
    expect(engineUnreachable([]).message).toBe('no rootless Podman or Docker answered; tried nothing');
  });
});
