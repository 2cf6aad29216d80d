import type { HostFacts } from '../facts.js';
import type { Check, PublishedPort } from '../finding.js';
import { pass } from '../finding.js';

interface Bound {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
}

/** Sockets bound on this host: TCP in LISTEN state, UDP bound at all; from /proc/net (file-based, so a sysroot works). */
async function boundSockets(facts: HostFacts): Promise<Bound[]> {
  const tables = [
    { file: '/proc/net/tcp', protocol: 'tcp' as const },
    { file: '/proc/net/tcp6', protocol: 'tcp' as const },
    { file: '/proc/net/udp', protocol: 'udp' as const },
    { file: '/proc/net/udp6', protocol: 'udp' as const },
  ];
  const bound: Bound[] = [];
  for (const { file, protocol } of tables) {
    for (const line of ((await facts.text(file)) ?? '').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const match = /^([0-9A-F]+):([0-9A-F]{4})$/i.exec(local ?? '');
      if (!match || (protocol === 'tcp' && state !== '0A')) continue;
      bound.push({ protocol, address: hexAddress(match[1]!), port: Number.parseInt(match[2]!, 16) });
    }
  }
  return bound;
}

/** The kernel writes IPv4 addresses as one little-endian word, IPv6 as four. */
function hexAddress(hex: string): string {
  if (hex.length === 8) return [6, 4, 2, 0].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)).join('.');
  if (/^0+$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  if (hex.startsWith('0000000000000000FFFF0000')) return hexAddress(hex.slice(24));
  return `ipv6:${hex.toLowerCase()}`;
}

/** A socket bound to `held` keeps a bind to `wanted` from working: the same address, or either one a wildcard. */
function blocks(held: string, wanted: string | undefined): boolean {
  return wanted === undefined || held === wanted || held === '0.0.0.0' || held === '::' || wanted === '0.0.0.0' || wanted === '::';
}

export const portsFree: Check = {
  id: 'ports.free',
  async run({ facts, ports }) {
    const bound = await boundSockets(facts);
    const taken = ports
      .map((wanted: PublishedPort) => ({
        wanted,
        holders: bound.filter((socket) => socket.port === wanted.port && socket.protocol === wanted.protocol && blocks(socket.address, wanted.address)),
      }))
      .filter(({ holders }) => holders.length > 0);
    const list = ports.map(({ port, protocol, address }) => `${address === undefined ? '' : `${address}:`}${port}/${protocol}`).join(', ');
    if (taken.length === 0) return pass(`${list} free on this host`);
    return {
      status: 'fail',
      summary: taken
        .map(
          ({ wanted, holders }) =>
            `${wanted.port}/${wanted.protocol} (${wanted.purpose}) is in use on ${[...new Set(holders.map((h) => h.address))].join(', ')}`,
        )
        .join('; '),
      remedy: `see what holds it: ss -ltnup 'sport = :${taken[0]!.wanted.port}'; stop it, or give the cluster other ports`,
    };
  },
};
