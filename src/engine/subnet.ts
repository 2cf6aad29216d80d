import { createHash } from 'node:crypto';

/**
 * Per-cluster node networks are /24s of this range; the seed picks where the search starts. It lies outside
 * kubeadm's default service range (10.96.0.0/12), the default pod range (10.244.0.0/16) and Podman's and
 * Docker's default pools (10.88-89.0.0/16, 172.17-31.0.0/16, 192.168.0.0/16).
 */
export const POOL = { cidr: '10.200.0.0/16', base: ipv4('10.200.0.0'), blocks: 256 };

export function ipv4(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** [first, last] address of an IPv4 CIDR; undefined for IPv6 or malformed values. */
export function cidrRange(cidr: string): [number, number] | undefined {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr.trim());
  if (!match) return undefined;
  const bits = Number(match[2]);
  if (bits > 32) return undefined;
  const address = match[1]!.split('.').every((part) => Number(part) <= 255) ? ipv4(match[1]!) : undefined;
  if (address === undefined) return undefined;
  const size = 2 ** (32 - bits);
  const first = Math.floor(address / size) * size;
  return [first, first + size - 1];
}

export function overlaps(a: string, b: string): boolean {
  const ra = cidrRange(a);
  const rb = cidrRange(b);
  return ra !== undefined && rb !== undefined && ra[0] <= rb[1] && rb[0] <= ra[1];
}

/**
 * A /24 for the cluster's node network that overlaps none of `taken` (other engine networks, the pod and
 * service subnets, the host's routes). The seed makes the choice stable for a cluster; a collision moves
 * on to the next block instead of failing (Usernetes' hostname hash collides at 16% for 10 hosts).
 */
export function chooseSubnet(seed: string, taken: readonly string[]): string | undefined {
  const start = createHash('sha256').update(seed).digest()[0]!;
  for (let step = 0; step < POOL.blocks; step++) {
    const block = (start + step) % POOL.blocks;
    const candidate = `${formatIpv4(POOL.base + block * 256)}/24`;
    if (!taken.some((cidr) => overlaps(candidate, cidr))) return candidate;
  }
  return undefined;
}
