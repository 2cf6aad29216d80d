import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine, probeEngine } from '../../src/engine/connect.js';
import { LocalHost } from '../../src/host/local-host.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rootlet-connect-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('connecting to an engine that is not there', () => {
  it('names a stale socket of a stopped engine, with exit 4 and how to start one', async () => {
    // A socket file whose server is gone: what a killed engine service leaves behind.
    const stale = path.join(dir, 'podman.sock');
    await execa('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(stale)}); s.close()`]);
    const failure = connectEngine(new LocalHost(), { explicit: stale, env: {}, uid: 99999 });
    await expect(failure).rejects.toMatchObject({ code: 'engine-unreachable', exitCode: 4 });
    await expect(failure).rejects.toThrow(
      `no rootless Podman or Docker answered; tried ${stale} (--engine-socket): nothing listening (the engine service is stopped)`,
    );
    await expect(failure).rejects.toMatchObject({ hint: expect.stringContaining('systemctl --user enable --now podman.socket') as unknown });
  });

  it('tells a regular file from a socket, and records every candidate it passed over', async () => {
    const file = path.join(dir, 'docker.sock');
    await writeFile(file, 'not a socket');
    const { engine, attempts } = await probeEngine(new LocalHost(), { env: { DOCKER_HOST: `unix://${file}` }, uid: 99999 });
    expect(engine).toBeUndefined();
    expect(attempts.map(({ candidate, outcome }) => `${candidate.source}: ${outcome}`)).toEqual([
      'DOCKER_HOST: a file, not a socket',
      '/run/user/99999/podman/podman.sock: no socket there',
      '/run/user/99999/docker.sock: no socket there',
    ]);
  });

  it('names a tcp:// DOCKER_HOST among the sockets tried, without connecting to it', async () => {
    const { attempts } = await probeEngine(new LocalHost(), { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' }, uid: 99999 });
    expect(attempts[0]).toMatchObject({
      candidate: { path: 'tcp://127.0.0.1:1', source: 'DOCKER_HOST' },
      outcome: expect.stringMatching(/^not a unix socket/) as unknown,
    });
  });

  it('gives up on a socket that accepts but never answers', async () => {
    const silent = path.join(dir, 'silent.sock');
    const { createServer } = await import('node:net');
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(silent, resolve));
    try {
      const started = Date.now();
      const { attempts } = await probeEngine(new LocalHost(), { explicit: silent, env: {}, uid: 99999, timeoutMs: 500 });
      expect(attempts.map(({ outcome }) => outcome)).toEqual(['no answer in time']);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      server.close();
    }
  });
});
