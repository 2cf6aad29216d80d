// Engine benchmark (issue 3), on the provisioned rootless engines, interleaved in one run:
//  1. create+start one node through rootlet's Engine vs the same container through the raw API (target <= 1.10x);
//  2. four nodes created+started concurrently vs one (target <= 1.6x on the 2-core machine).
// Run: npx tsx bench/engine.mts   (BENCH_RUNS=N, default 7)
import Docker from 'dockerode';
import { nodeContainerSpec, nodeVolumeSpec } from '../src/engine/node-spec.js';
import type { ClusterSettings, NodeSpec } from '../src/engine/types.js';
import { chooseSubnet } from '../src/engine/subnet.js';
import { engineSockets, testEngine } from '../test/support/engines.js';
import { ensureStandinImage } from '../test/support/standin-image.js';

const runs = Number(process.env.BENCH_RUNS ?? 7);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const libModules = (await import('node:fs')).existsSync('/lib/modules');

for (const [kind, socket] of Object.entries(engineSockets())) {
  const engine = await testEngine(kind as 'podman' | 'docker', socket);
  const raw = new Docker({ socketPath: socket });
  const image = await ensureStandinImage(engine);
  // Names no one else uses: the cleanup force-removes whatever carries them.
  const prefix = `rootlet-bench-${process.pid}-`;
  const cluster: ClusterSettings = { name: `bench-${kind}`, image, network: `rootlet-bench-${kind}` };
  await engine.ensureNetwork(cluster.network, {}, (taken) => chooseSubnet(cluster.name, taken));
  const node = (name: string): NodeSpec => ({ name, role: 'worker', hostId: 'local', ports: [], libModules });
  const time = async (action: () => Promise<unknown>) => {
    const start = performance.now();
    await action();
    return performance.now() - start;
  };
  const viaRootlet = async (name: string) => {
    await engine.createNode(cluster, node(name));
    await engine.startNode(name);
  };
  const viaRaw = async (name: string) => {
    await raw.createVolume(nodeVolumeSpec(cluster, node(name)));
    // The same request rootlet makes, sent straight to the engine.
    const request = nodeContainerSpec(cluster, node(name), engine.info);
    if (request.api === 'libpod') {
      await new Promise((resolve, reject) =>
        raw.modem.dial(
          { path: '/v4.0.0/libpod/containers/create', method: 'POST', statusCodes: { 201: true }, options: request.body },
          (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result)),
        ),
      );
      await raw.getContainer(name).start();
    } else {
      await (await raw.createContainer(request.body)).start();
    }
  };
  const clean = async (names: string[]) => Promise.all(names.map((name) => engine.removeNode(name)));

  const all = ['w', 'r', 'r1', 'c0', 'c1', 'c2', 'c3'].map((suffix) => `${prefix}${suffix}`);
  const times = { rootlet: [] as number[], raw: [] as number[], one: [] as number[], four: [] as number[], rawOne: [] as number[], rawFour: [] as number[] };
  try {
    await viaRaw(`${prefix}w`); // warm-up: image layers, volume driver, network
    await clean([`${prefix}w`]);
    for (let run = 0; run < runs; run++) {
      times.rootlet.push(await time(() => viaRootlet(`${prefix}r`)));
      times.raw.push(await time(() => viaRaw(`${prefix}w`)));
      await clean([`${prefix}r`, `${prefix}w`]);
      times.one.push(await time(() => viaRootlet(`${prefix}r1`)));
      times.four.push(await time(() => Promise.all([0, 1, 2, 3].map((i) => viaRootlet(`${prefix}c${i}`)))));
      await clean([`${prefix}r1`, ...[0, 1, 2, 3].map((i) => `${prefix}c${i}`)]);
      // The same through the raw API: how much of the concurrency cost is the engine's own.
      times.rawOne.push(await time(() => viaRaw(`${prefix}r1`)));
      times.rawFour.push(await time(() => Promise.all([0, 1, 2, 3].map((i) => viaRaw(`${prefix}c${i}`)))));
      await clean([`${prefix}r1`, ...[0, 1, 2, 3].map((i) => `${prefix}c${i}`)]);
    }
  } finally {
    await clean(all);
    await engine.removeNetwork(cluster.network);
  }
  const m = Object.fromEntries(Object.entries(times).map(([key, values]) => [key, median(values)])) as Record<keyof typeof times, number>;
  const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)}x (target ${target}x: ${ratio <= target ? 'met' : 'MISSED'})`;
  console.log(`${kind} ${engine.info.version}, ${runs} interleaved runs, medians:`);
  console.log(`  create+start one node: rootlet ${m.rootlet.toFixed(0)} ms, raw API ${m.raw.toFixed(0)} ms -> ${verdict(m.rootlet / m.raw, 1.1)}`);
  console.log(`  four nodes concurrently ${m.four.toFixed(0)} ms vs one ${m.one.toFixed(0)} ms -> ${verdict(m.four / m.one, 1.6)}`);
  console.log(`  the engine alone (raw API): four ${m.rawFour.toFixed(0)} ms vs one ${m.rawOne.toFixed(0)} ms -> ${(m.rawFour / m.rawOne).toFixed(2)}x`);
}
