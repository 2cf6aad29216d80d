/**
 * The ground multi-host clusters stand on, measured on this machine: a node of one user's rootless engine reaches
 * a port that another user's rootless engine publishes on the host's own address (not loopback, which rootless
 * containers cannot reach), from Podman to Docker and back. Rootless Docker needs its iptables for this (started
 * with --iptables=false, replies never come back: scripts/engines/provision.sh).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { launchNodes } from '../../src/engine/launch.js';
import { chooseSubnet } from '../../src/engine/subnet.js';
import type { ClusterSettings, EngineKind, NodeSpec } from '../../src/engine/types.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { freePort } from '../support/ports.js';
import { ensureStandinImage } from '../support/standin-image.js';

const sockets = engineSockets();
/** The machine's first non-loopback IPv4 address: what another host would use to reach this one. */
const hostAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;

if (!sockets.podman || !sockets.docker || !hostAddress) {
  const why = hostAddress ? MISSING_ENGINES : 'SKIPPED: this machine has no non-loopback IPv4 address';
  console.warn(why);
  it.skip(`a node reaches another user's published port: ${why}`, () => undefined);
} else {
  describe(`a node reaches a port another user's engine publishes on ${hostAddress}`, () => {
    const engines = {} as Record<EngineKind, Engine>;
    const images = {} as Record<EngineKind, string>;
    const run = `x${process.pid.toString(36)}`;
    const made: Array<[EngineKind, ClusterSettings, string]> = [];

    async function launch(kind: EngineKind, name: string, ports: NodeSpec['ports']): Promise<void> {
      const settings: ClusterSettings = { name, image: images[kind], network: `rootlet-${name}` };
      made.push([kind, settings, name]);
      await launchNodes(engines[kind], settings, [{ name, role: 'worker', hostId: 'local', libModules: existsSync('/lib/modules'), ports }], {
        chooseSubnet: (taken) => chooseSubnet(name, taken),
        bootTimeoutMs: 60_000,
      });
    }

    beforeAll(async () => {
      for (const kind of ['podman', 'docker'] as const) {
        engines[kind] = await testEngine(kind, sockets[kind]!);
        images[kind] = await ensureStandinImage(engines[kind]);
      }
    }, 180_000);

    afterAll(async () => {
      for (const [kind, settings, name] of made) {
        await engines[kind].removeNode(name).catch(() => undefined);
        await engines[kind].removeNetwork(settings.network).catch(() => undefined);
      }
    });

    for (const [server, client] of [
      ['podman', 'docker'],
      ['docker', 'podman'],
    ] as const) {
      it(`from a ${client} node to a ${server} node's published TCP port`, async () => {
        const port = await freePort();
        const listener = `${run}-${server}-listens`;
        const caller = `${run}-${client}-calls`;
        await launch(server, listener, [{ hostAddress: hostAddress, hostPort: port, containerPort: port, protocol: 'tcp' }]);
        await launch(client, caller, []);
        // The listener answers, so the caller knows it reached the listener itself: the engines' port forwarders accept
        // a connection before anything listens in the node, and what is sent then is lost.
        const received = engines[server].exec(listener, ['sh', '-c', `echo pong | nc -l -p ${port}`], { signal: AbortSignal.timeout(90_000) });
        const sent = await engines[client].exec(caller, [
          'sh',
          '-c',
          `i=0; while [ $i -lt 60 ]; do [ "$(echo "from ${client}" | nc -w 2 ${hostAddress} ${port})" = pong ] && exit 0; i=$((i + 1)); sleep 0.5; done; exit 1`,
        ]);
        expect(sent.exitCode, sent.stderr).toBe(0);
        expect((await received).stdout).toBe(`from ${client}\n`);
      });
    }
  });
}
