// `rootlet up` benchmark (issue 4), on the provisioned rootless engines with the stand-in node image:
//  1. from starting `rootlet up` to "every node created and started", against a bare script that starts the same way
//     (a fresh node process) and sends the engine the same network and node requests (target <= 1.15x);
//  2. the orchestration overhead of a whole `up` of 1 control plane + 2 workers: wall time minus the work inside the
//     nodes (the stand-in kubeadm's and kubectl's commands) and minus the nodes' own boot (target < 3 s).
// Both run as the engine's own user (setpriv), interleaved. Run: npx tsx bench/up.mts   (BENCH_RUNS=N, default 5)
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, chown } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { networkCreateRequest } from '../src/engine/network-spec.js';
import { nodeContainerSpec, nodeVolumeSpec } from '../src/engine/node-spec.js';
import { chooseSubnet } from '../src/engine/subnet.js';
import type { ClusterSettings, EngineKind, NodeSpec } from '../src/engine/types.js';
import { asUser, ROOTLET } from '../test/support/cli.js';
import { engineSockets, testEngine } from '../test/support/engines.js';
import { ensureStandinImage } from '../test/support/standin-image.js';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const USERS: Record<EngineKind, string> = { podman: 'rootlet-podman', docker: 'rootlet-docker' };
const RAW = path.resolve(import.meta.dirname, 'raw-up.mjs');
const libModules = existsSync('/lib/modules');

interface UpJson {
  timings: { nodesStartedSinceProcessStart: number; nodeBoot: number; kubeTools: number; total: number };
}

for (const [kind, socket] of Object.entries(engineSockets()) as Array<[EngineKind, string]>) {
  const engine = await testEngine(kind, socket);
  const image = await ensureStandinImage(engine);
  const user = USERS[kind];
  const uid = Number((await execa('id', ['-u', user])).stdout);
  const home = await mkdtemp(path.join(os.tmpdir(), `rootlet-bench-${kind}-`));
  await chown(home, uid, uid);
  const env = { HOME: home, CI: '1' };

  // The bare script's requests: what rootlet sends for the same three nodes, on a network of its own.
  const rawCluster: ClusterSettings = { name: `rawbench${process.pid}`, image, network: `rootlet-rawbench${process.pid}` };
  const subnet = chooseSubnet(rawCluster.name, await engine.networkSubnets())!;
  const nodes: NodeSpec[] = ['control-plane', 'worker', 'worker2'].map((suffix, index) => ({
    name: `${rawCluster.name}-${suffix}`,
    role: index === 0 ? 'control-plane' : 'worker',
    hostId: 'local',
    ports: [],
    libModules,
  }));
  const plan = path.join(home, 'raw-plan.json');
  await writeFile(
    plan,
    JSON.stringify({
      socket,
      network: networkCreateRequest(engine.info, rawCluster.network, subnet, {}),
      nodes: nodes.map((node) => ({ name: node.name, volume: nodeVolumeSpec(rawCluster, node), create: nodeContainerSpec(rawCluster, node, engine.info) })),
    }),
  );
  await chown(plan, uid, uid);
  const cleanRaw = async () => {
    for (const node of nodes) await engine.removeNode(node.name);
    await engine.removeNetwork(rawCluster.network);
  };

  const started = { rootlet: [] as number[], raw: [] as number[] };
  const overhead: number[] = [];
  const totals: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const name = `bench${process.pid}r${run}`;
      const up = await execa(
        ...asUser(
          user,
          uid,
          ['node', ROOTLET, 'up', '--name', name, '--workers', '2', '--image', image, '--skip-doctor', '--wait', '60s', '--json', '--no-switch'],
          env,
        ),
        { reject: false },
      );
      if (up.exitCode !== 0) throw new Error(`rootlet up failed: ${up.stderr}`);
      const { timings } = JSON.parse(up.stdout) as UpJson;
      started.rootlet.push(timings.nodesStartedSinceProcessStart);
      overhead.push(timings.total - timings.kubeTools - timings.nodeBoot);
      totals.push(timings.total);
      await execa(...asUser(user, uid, ['node', ROOTLET, 'down', '--name', name], env));

      const raw = await execa(...asUser(user, uid, ['node', RAW, plan], env));
      started.raw.push(Number(raw.stdout.trim()));
      await cleanRaw();
    }
  } finally {
    await cleanRaw().catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
  const ratio = median(started.rootlet) / median(started.raw);
  console.log(
    `${kind}: nodes created+started ${median(started.rootlet).toFixed(0)} ms vs raw ${median(started.raw).toFixed(0)} ms = ${ratio.toFixed(2)}x (target <= 1.15x); ` +
      `whole up ${median(totals).toFixed(0)} ms, orchestration overhead ${median(overhead).toFixed(0)} ms (target < 3000 ms); ${runs} runs, medians`,
  );
}
