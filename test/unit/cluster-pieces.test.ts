import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { nodeAddress } from '../../src/cluster/addresses.js';
import { pickApiServerPort } from '../../src/cluster/api-port.js';
import { controlPlaneName, networkName, workerNames } from '../../src/cluster/names.js';
import { progressStyle } from '../../src/cluster/progress.js';
import { formatDuration } from '../../src/cluster/readiness-wait.js';
import type { NodeState } from '../../src/engine/types.js';
import { redact, Transcript } from '../../src/kube/transcript.js';

describe('node names', () => {
  it('follows kind: <cluster>-control-plane, <cluster>-worker, <cluster>-worker2...', () => {
    expect(controlPlaneName('dev')).toBe('dev-control-plane');
    expect(workerNames('dev', 3)).toEqual(['dev-worker', 'dev-worker2', 'dev-worker3']);
    expect(workerNames('dev', 0)).toEqual([]);
    expect(networkName('dev')).toBe('rootlet-dev');
  });
});

describe('nodeAddress', () => {
  it('puts the control plane at .2 and worker N at .2+N, past the gateway', () => {
    expect(nodeAddress('10.200.7.0/24', 0)).toBe('10.200.7.2');
    expect(nodeAddress('10.200.7.0/24', 20)).toBe('10.200.7.22');
  });

  it('refuses an index beyond the subnet', () => {
    expect(() => nodeAddress('10.200.7.0/30', 1)).toThrow(/no address for node 1/);
  });
});

describe('redact', () => {
  const token = 'abc123.0123456789abcdef';

  it('removes tokens wherever they appear, and token: fields whatever their value', () => {
    expect(redact(`kubeadm join --token ${token} x`)).toBe('kubeadm join --token <redacted> x');
    expect(redact('  token: not-even-token-shaped\n')).toBe('  token: <redacted>\n');
  });

  it('keeps CA hashes and container ids, which are public', () => {
    const hash = `sha256:${'a'.repeat(64)}`;
    expect(redact(`--discovery-token-ca-cert-hash ${hash} ${'f'.repeat(64)}`)).toBe(`--discovery-token-ca-cert-hash ${hash} ${'f'.repeat(64)}`);
  });

  it('is applied as the transcript records, so no rendering can leak', () => {
    const transcript = new Transcript();
    transcript.record('n', ['kubeadm', 'token', 'create'], 0, `${token}\n`, 12);
    transcript.record('n', ['kubectl', 'get', 'nodes'], 0, '', 30);
    expect(transcript.render()).not.toContain(token);
    expect(transcript.msIn(['kubeadm', 'kubectl'])).toBe(42);
    expect(transcript.msIn(['kubectl'])).toBe(30);
  });
});

describe('progressStyle', () => {
  it('is silent with --json, plain without a terminal or in CI or with NO_COLOR, fancy otherwise', () => {
    expect(progressStyle({ json: true, env: {}, stderrIsTTY: true })).toBe('silent');
    expect(progressStyle({ json: false, env: {}, stderrIsTTY: false })).toBe('plain');
    expect(progressStyle({ json: false, env: { CI: 'true' }, stderrIsTTY: true })).toBe('plain');
    expect(progressStyle({ json: false, env: { NO_COLOR: '1' }, stderrIsTTY: true })).toBe('plain');
    expect(progressStyle({ json: false, env: {}, stderrIsTTY: true })).toBe('fancy');
  });
});

describe('formatDuration', () => {
  it('says minutes when whole, else seconds', () => {
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(8_000)).toBe('8s');
  });
});

describe('pickApiServerPort', () => {
  const other = (port: number): NodeState => ({
    id: 'x',
    name: 'other-control-plane',
    cluster: 'other',
    role: 'control-plane',
    hostId: 'local',
    status: 'exited',
    image: 'i',
    ports: [{ hostAddress: '127.0.0.1', hostPort: port, containerPort: port, protocol: 'tcp' }],
    address: undefined,
    exitCode: 0,
    restarts: 0,
  });

  it('skips ports another cluster recorded even while its node is stopped, and ports held by a listener', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const held = (server.address() as { port: number }).port;
    try {
      const first = await pickApiServerPort('127.0.0.1', undefined, [other(6443)]);
      expect(first).toBeGreaterThan(6443);
      await expect(pickApiServerPort('127.0.0.1', held, [])).rejects.toThrow(`port ${held} on 127.0.0.1 is taken`);
      await expect(pickApiServerPort('127.0.0.1', 6443, [other(6443)])).rejects.toThrow('taken by cluster other');
    } finally {
      server.close();
    }
  });

  it("skips the cluster's own extra ports (nodes.extraPortMappings)", async () => {
    expect(await pickApiServerPort('127.0.0.1', undefined, [other(6443)], [6444, 6445])).toBeGreaterThan(6445);
  });
});
