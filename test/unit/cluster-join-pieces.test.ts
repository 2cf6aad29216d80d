import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { chooseAdvertiseAddress } from '../../src/cluster/advertise.js';
import { joinExitCode, remoteNodeName, type HostJoinResult } from '../../src/cluster/join.js';
import { withMember, type MemberHost } from '../../src/cluster/members.js';
import { LocalHost } from '../../src/host/local-host.js';

describe('remoteNodeName', () => {
  it('is <cluster>-<short hostname>, a DNS label', () => {
    expect(remoteNodeName('lab', 'Node2.lab.example.com', 'alice', new Set())).toBe('lab-node2');
    expect(remoteNodeName('lab', 'GPU_box 7', 'alice', new Set())).toBe('lab-gpu-box-7');
    expect(remoteNodeName('lab', '---', 'alice', new Set())).toBe('lab-host');
  });

  it('tells two accounts of one machine apart by the user, then by a number', () => {
    const taken = new Set(['lab-node2']);
    expect(remoteNodeName('lab', 'node2', 'bob', taken)).toBe('lab-node2-bob');
    taken.add('lab-node2-bob');
    expect(remoteNodeName('lab', 'node2', 'bob', taken)).toBe('lab-node2-bob-2');
  });

  it('stays within 63 characters, never ending in "-"', () => {
    const name = remoteNodeName('a'.repeat(40), `${'b'.repeat(22)}-${'c'.repeat(30)}`, 'alice', new Set());
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe('joinExitCode', () => {
  const host = (outcome: HostJoinResult['outcome'], exitCode?: number): HostJoinResult => ({
    host: 'h',
    outcome,
    seconds: 0,
    ...(exitCode === undefined ? {} : { error: { code: 'x', message: 'm', exitCode } }),
  });
  it('is 0 only when every host joined or was already', () => {
    expect(joinExitCode({ cluster: 'c', seconds: 0, hosts: [host('joined'), host('kept')] })).toBe(0);
    expect(joinExitCode({ cluster: 'c', seconds: 0, hosts: [host('joined'), host('failed', 5)] })).toBe(5);
    expect(joinExitCode({ cluster: 'c', seconds: 0, hosts: [host('failed', 3), host('failed', 5)] })).toBe(1);
  });
});

describe('withMember', () => {
  it('adds a host once, replacing its earlier entry, sorted by host', () => {
    const entry = (host: string, node: string): MemberHost => ({ host, node, address: '10.0.0.1', engine: 'podman 4', identityFiles: [], joinedAt: 't' });
    const hosts = withMember([entry('b@node3', 'old'), entry('a@node2', 'n2')], entry('b@node3', 'new'));
    expect(hosts.map((member) => `${member.host}=${member.node}`)).toEqual(['a@node2=n2', 'b@node3=new']);
  });
});

describe("chooseAdvertiseAddress (this machine's real addresses and routes)", () => {
  const host = new LocalHost();
  const own = Object.entries(os.networkInterfaces())
    .flatMap(([name, infos]) => (infos ?? []).map((info) => ({ name, ...info })))
    .find((info) => info.family === 'IPv4' && !info.internal && !/^(docker|br-|cni|podman|virbr)/.test(info.name))?.address;

  it('is undefined for a one-host cluster', async () => {
    expect(await chooseAdvertiseAddress(host, undefined, [])).toBeUndefined();
  });

  it('refuses loopback and addresses this host does not have (exit 2)', async () => {
    await expect(chooseAdvertiseAddress(host, '127.0.0.1', [])).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('loopback') as unknown });
    await expect(chooseAdvertiseAddress(host, '203.0.113.77', [])).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('not an address of this host') as unknown,
    });
  });

  it.runIf(own !== undefined)('takes an address of this host as given', async () => {
    expect(await chooseAdvertiseAddress(host, own, [])).toBe(own);
  });

  it.runIf(own !== undefined)('cannot pick one when the host to join is this machine itself', async () => {
    await expect(chooseAdvertiseAddress(host, undefined, [own!])).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('is an address of this host') as unknown,
    });
  });
});
