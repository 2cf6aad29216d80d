import { describe, expect, it } from 'vitest';
import { bridgeName, networkCreateRequest } from '../../src/engine/network-spec.js';

const LABELS = { 'dev.rootlet.cluster': 'demo' };

describe('bridgeName', () => {
  it('fits Linux interface names: at most 15 characters, starting rl-', () => {
    for (const [network, subnet] of [
      ['rootlet-demo', '10.100.42.0/24'],
      ['rootlet-a-cluster-name-far-longer-than-any-interface-name', '10.100.255.0/24'],
      ['', ''],
    ] as const) {
      const name = bridgeName(network, subnet);
      expect(name.length).toBeLessThanOrEqual(15);
      expect(name).toMatch(/^rl-[0-9a-f]+$/);
    }
  });

  it('is the same for the same network and subnet', () => {
    expect(bridgeName('rootlet-demo', '10.100.42.0/24')).toBe(bridgeName('rootlet-demo', '10.100.42.0/24'));
  });

  it('differs per network and per subnet, so a lingering bridge of a removed network is never reused', () => {
    const names = new Set([
      bridgeName('rootlet-demo', '10.100.42.0/24'),
      bridgeName('rootlet-other', '10.100.42.0/24'),
      bridgeName('rootlet-demo', '10.100.43.0/24'),
      bridgeName('rootlet-other', '10.100.43.0/24'),
    ]);
    expect(names.size).toBe(4);
  });
});

describe('networkCreateRequest', () => {
  it('creates a Podman network through the libpod endpoint, which honours network_interface', () => {
    const request = networkCreateRequest({ kind: 'podman' }, 'rootlet-demo', '10.100.42.0/24', LABELS);
    expect(request).toEqual({
      method: 'POST',
      path: '/v4.0.0/libpod/networks/create',
      body: {
        name: 'rootlet-demo',
        driver: 'bridge',
        network_interface: bridgeName('rootlet-demo', '10.100.42.0/24'),
        subnets: [{ subnet: '10.100.42.0/24' }],
        labels: LABELS,
      },
    });
  });

  it('creates a Docker network through the compat endpoint with the bridge name as a driver option', () => {
    const request = networkCreateRequest({ kind: 'docker' }, 'rootlet-demo', '10.100.42.0/24', LABELS);
    expect(request).toEqual({
      method: 'POST',
      path: '/networks/create',
      body: {
        Name: 'rootlet-demo',
        Driver: 'bridge',
        Labels: LABELS,
        IPAM: { Driver: 'default', Config: [{ Subnet: '10.100.42.0/24' }] },
        Options: { 'com.docker.network.bridge.name': bridgeName('rootlet-demo', '10.100.42.0/24') },
        CheckDuplicate: true,
      },
    });
  });
});
