import { describe, expect, it } from 'vitest';
import { chooseSubnet, cidrRange, ipv4, overlaps } from '../../src/engine/subnet.js';

const POOL = '10.200.0.0/16';

function thirdOctet(subnet: string | undefined): number {
  const match = /^10\.200\.(\d+)\.0\/24$/.exec(subnet ?? '');
  if (!match) throw new Error(`not a /24 of ${POOL}: ${subnet}`);
  return Number(match[1]);
}

/** A seed whose first choice is the given /24, found by trying cluster-0, cluster-1, ... */
function seedStartingAt(subnet: string): string {
  for (let i = 0; i < 10_000; i++) if (chooseSubnet(`cluster-${i}`, []) === subnet) return `cluster-${i}`;
  throw new Error(`no seed starts at ${subnet}`);
}

describe('cidrRange', () => {
  it('gives the first and last address of an IPv4 CIDR', () => {
    expect(cidrRange('10.200.7.0/24')).toEqual([ipv4('10.200.7.0'), ipv4('10.200.7.255')]);
    expect(cidrRange('10.0.0.0/8')).toEqual([ipv4('10.0.0.0'), ipv4('10.255.255.255')]);
    expect(cidrRange('192.168.1.17/32')).toEqual([ipv4('192.168.1.17'), ipv4('192.168.1.17')]);
    expect(cidrRange('0.0.0.0/0')).toEqual([0, 0xffffffff]);
  });

  it('rounds an address with host bits set down to its network', () => {
    expect(cidrRange('10.200.7.129/24')).toEqual([ipv4('10.200.7.0'), ipv4('10.200.7.255')]);
    expect(cidrRange('172.17.3.4/16')).toEqual([ipv4('172.17.0.0'), ipv4('172.17.255.255')]);
  });

  it('handles the top of the address space without going negative', () => {
    expect(cidrRange('255.255.255.0/24')).toEqual([ipv4('255.255.255.0'), 0xffffffff]);
  });

  it('is undefined for IPv6, a missing prefix length, or a prefix longer than 32', () => {
    expect(cidrRange('fd00:10:244::/56')).toBeUndefined();
    expect(cidrRange('10.200.0.0')).toBeUndefined();
    expect(cidrRange('10.200.0.0/33')).toBeUndefined();
    expect(cidrRange('')).toBeUndefined();
  });

  it('is undefined for an address with an octet above 255', () => {
    expect(cidrRange('10.300.0.0/16')).toBeUndefined();
  });
});

describe('overlaps', () => {
  it('is true for nested, equal and partly shared ranges, either way round', () => {
    expect(overlaps('10.200.3.0/24', '10.200.0.0/16')).toBe(true);
    expect(overlaps('10.200.0.0/16', '10.200.3.0/24')).toBe(true);
    expect(overlaps('10.200.3.0/24', '10.200.3.0/24')).toBe(true);
    expect(overlaps('10.200.3.128/25', '10.200.3.0/24')).toBe(true);
  });

  it('is false for adjacent and distant ranges', () => {
    expect(overlaps('10.200.3.0/24', '10.200.4.0/24')).toBe(false);
    expect(overlaps('10.200.3.0/24', '10.200.2.0/24')).toBe(false);
    expect(overlaps('10.200.0.0/16', '10.244.0.0/16')).toBe(false);
    expect(overlaps('10.200.0.0/16', '192.168.0.0/16')).toBe(false);
  });

  it('never counts IPv6 or unparseable values as overlapping', () => {
    expect(overlaps('10.200.3.0/24', 'fd00::/8')).toBe(false);
    expect(overlaps('::/0', '10.200.3.0/24')).toBe(false);
    expect(overlaps('10.200.3.0/24', 'not a subnet')).toBe(false);
    expect(overlaps('10.200.3.0/24', '')).toBe(false);
  });

  // One odd subnet reported by an engine must not make chooseSubnet throw.
  it('never counts an address with an out-of-range octet as overlapping', () => {
    expect(overlaps('10.200.3.0/24', '999.1.2.3/24')).toBe(false);
  });
});

describe('chooseSubnet', () => {
  it('is stable for a seed', () => {
    expect(chooseSubnet('demo', [])).toBe('10.200.42.0/24');
    expect(chooseSubnet('demo', [])).toBe(chooseSubnet('demo', []));
    expect(chooseSubnet('rootlet-demo', [])).toBe('10.200.117.0/24');
  });

  it('spreads different seeds over the pool', () => {
    const chosen = new Set(Array.from({ length: 40 }, (_, i) => chooseSubnet(`cluster-${i}`, [])));
    expect(chosen.size).toBeGreaterThan(20);
  });

  it('moves on to the next /24 when the first choice is taken', () => {
    const first = chooseSubnet('demo', [])!;
    const next = chooseSubnet('demo', [first]);
    expect(thirdOctet(next)).toBe((thirdOctet(first) + 1) % 256);
  });

  it('skips a run of taken /24s and a wider taken range', () => {
    expect(chooseSubnet('demo', ['10.200.42.0/24', '10.200.43.0/24', '10.200.44.0/24'])).toBe('10.200.45.0/24');
    expect(chooseSubnet('demo', ['10.200.40.0/22'])).toBe('10.200.44.0/24');
    expect(chooseSubnet('demo', ['10.200.32.0/19'])).toBe('10.200.64.0/24');
  });

  it('wraps around from 10.200.255.0/24 to 10.200.0.0/24', () => {
    const seed = seedStartingAt('10.200.255.0/24');
    expect(chooseSubnet(seed, ['10.200.255.0/24'])).toBe('10.200.0.0/24');
    expect(chooseSubnet(seed, ['10.200.128.0/17', '10.200.0.0/24'])).toBe('10.200.1.0/24');
  });

  it('gives up when the whole pool is taken, as one range or as 256 /24s', () => {
    expect(chooseSubnet('demo', ['10.200.0.0/16'])).toBeUndefined();
    expect(chooseSubnet('demo', ['10.0.0.0/8'])).toBeUndefined();
    expect(
      chooseSubnet(
        'demo',
        Array.from({ length: 256 }, (_, i) => `10.200.${i}.0/24`),
      ),
    ).toBeUndefined();
  });

  it('finds the one free /24 left', () => {
    const taken = Array.from({ length: 256 }, (_, i) => `10.200.${i}.0/24`).filter((cidr) => cidr !== '10.200.3.0/24');
    expect(chooseSubnet('demo', taken)).toBe('10.200.3.0/24');
  });

  it('ignores IPv6 subnets and ranges outside the pool, such as the pod and service subnets', () => {
    expect(chooseSubnet('demo', ['fd00:10:244::/56', '10.244.0.0/16', '10.96.0.0/16', '172.17.0.0/16'])).toBe('10.200.42.0/24');
  });

  it('always answers a free /24 inside 10.200.0.0/16', () => {
    for (let i = 0; i < 200; i++) {
      const taken = [`10.200.${(i * 37) % 256}.0/24`, `10.200.${(i * 11) % 256}.0/23`, '10.244.0.0/16', '10.96.0.0/16'];
      const subnet = chooseSubnet(`cluster-${i}`, taken);
      expect(subnet).toMatch(/^10\.200\.\d+\.0\/24$/);
      expect(overlaps(subnet!, POOL)).toBe(true);
      for (const cidr of taken) expect(overlaps(subnet!, cidr), `${subnet} vs ${cidr}`).toBe(false);
    }
  });
});
