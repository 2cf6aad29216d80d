/**
 * `join` brings the node image to a host that lacks it by streaming `docker save` of this host's engine into `docker
 * load` of the other (through the SSH connection in real use): here between the two real rootless engines, both ways.
 */
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { packArchive } from '../../src/engine/archive.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';

const sockets = engineSockets();

if (!sockets.podman || !sockets.docker) {
  console.warn(MISSING_ENGINES);
  it.skip(`image transfer between rootless Podman and Docker: ${MISSING_ENGINES}`, () => undefined);
} else {
  describe('image transfer between rootless engines (export -> load, no file)', () => {
    const tag = `localhost/rootlet-transfer-test:${process.pid}`;
    const made: Array<{ socket: string }> = [];

    afterAll(async () => {
      for (const { socket } of made)
        await new Docker({ socketPath: socket })
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
    });

    it.each([
      ['podman', 'docker'],
      ['docker', 'podman'],
    ] as const)(
      'from %s to %s',
      async (from, to) => {
        const source: Engine = await testEngine(from, sockets[from]!);
        const target: Engine = await testEngine(to, sockets[to]!);
        made.push({ socket: sockets[from]! }, { socket: sockets[to]! });
        await new Docker({ socketPath: sockets[to]! })
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
        const context = await packArchive([
          { name: 'Dockerfile', content: 'FROM scratch\nADD hello /hello\nLABEL dev.rootlet.test=transfer\n' },
          { name: 'hello', content: `from ${from}\n` },
        ]);
        await source.buildImage(context, tag);
        expect(await target.hasImage(tag)).toBe(false);
        const lines: string[] = [];
        await target.loadImage(await source.exportImage(tag), { onProgress: (line) => lines.push(line) });
        expect(await target.hasImage(tag)).toBe(true);
        const loaded = await new Docker({ socketPath: sockets[to]! }).getImage(tag).inspect();
        expect(loaded.Config.Labels).toMatchObject({ 'dev.rootlet.test': 'transfer' });
      },
      120_000,
    );

    it('fails as an engine error when the image is not there', async () => {
      const source = await testEngine('podman', sockets.podman!);
      const error = await source
        .exportImage('localhost/rootlet-no-such-image:0')
        .then(async (stream) => {
          // An engine may answer 200 and fail in the stream: reading it must fail then.
          for await (const chunk of stream as AsyncIterable<Buffer>) void chunk;
          return undefined;
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
    });
  });
}
