import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { launchNodes } from '../../src/engine/launch.js';
import { chooseSubnet } from '../../src/engine/subnet.js';
import type { ClusterSettings, EngineKind } from '../../src/engine/types.js';
import { configureKubeletIdRange } from '../../src/kube/node-steps.js';
import { Transcript } from '../../src/kube/transcript.js';
import { IDS_PER_POD, KUBELET_MAX_PODS } from '../../src/kube/user-namespaces.js';
import { engineSockets, MISSING_ENGINES, testEngine } from '../support/engines.js';
import { ensureStandinImage } from '../support/standin-image.js';

const sockets = engineSockets();
const kinds = (['podman', 'docker'] as const).filter((kind) => sockets[kind]);
for (const missing of (['podman', 'docker'] as const).filter((kind) => !sockets[kind])) {
  console.warn(MISSING_ENGINES);
  it.skip(`rootless ${missing}: ${MISSING_ENGINES}`, () => undefined);
}

describe.each(kinds)("the kubelet's pod id range inside a node on rootless %s", (kind: EngineKind) => {
  let engine: Engine;
  let settings: ClusterSettings;
  const node = `k${process.pid.toString(36)}${kind.slice(0, 1)}-control-plane`;
  const range = { first: IDS_PER_POD, count: IDS_PER_POD * KUBELET_MAX_PODS };
  const ctx = () => ({ shell: engine, transcript: new Transcript() });

  beforeAll(async () => {
    engine = await testEngine(kind, sockets[kind]!);
    const image = await ensureStandinImage(engine);
    settings = { name: node.replace(/-control-plane$/, ''), image, network: `rootlet-${node}` };
    await launchNodes(engine, settings, [{ name: node, role: 'control-plane', hostId: 'local', ports: [], libModules: existsSync('/lib/modules') }], {
      chooseSubnet: (taken) => chooseSubnet(settings.name, taken),
      bootTimeoutMs: 60_000,
    });
  }, 180_000);

  afterAll(async () => {
    await engine.removeNode(node);
    await engine.removeNetwork(settings.network);
  });

  it('adds a kubelet account whose getsubids answer is the range, in /etc/subuid and /etc/subgid', async () => {
    expect(await configureKubeletIdRange(ctx(), node, range)).toBeUndefined();
    const files = await engine.exec(node, ['cat', '/etc/subuid', '/etc/subgid']);
    expect(files.stdout).toBe(`kubelet:65536:7208960\nkubelet:65536:7208960\n`);
    const passwd = await engine.exec(node, ['grep', '^kubelet:', '/etc/passwd']);
    expect(passwd.exitCode).toBe(0);
  });

  it('is idempotent: a second run keeps one account and the same range', async () => {
    expect(await configureKubeletIdRange(ctx(), node, range)).toBeUndefined();
    const accounts = await engine.exec(node, ['grep', '-c', '^kubelet:', '/etc/passwd']);
    expect(accounts.stdout.trim()).toBe('1');
  });

  it('says why when the node image has no getsubids', async () => {
    await engine.exec(node, ['rm', '/usr/bin/getsubids']);
    expect(await configureKubeletIdRange(ctx(), node, range)).toMatch(/^the node image has no getsubids \(Debian package uidmap\)/);
  });
});
