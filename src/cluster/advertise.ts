/**
 * The control plane's address for other hosts (Usernetes' HOST_IP): given (--advertise-address, the cluster file), or
 * the source address of the route to the hosts to join, as `ip route get` shows it. A loopback address, one of an
 * engine's bridges, or one this host does not have is refused: nodes on other hosts could not reach it (Usernetes #380).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { z } from 'zod';
import { ExitCode, RootletError, UsageError } from '../errors.js';
import { isLoopback } from '../config/cluster-file.js';
import type { Host } from '../host/host.js';

/** `auto`: the source address of the default route (`ip route get 1`, Usernetes' choice). */
export const AUTO_ADDRESS = 'auto';

/** Bridges engines create; their addresses exist on this host but are NAT-internal to it. */
const ENGINE_BRIDGE = /^(?:docker\d*|br-[0-9a-f]{12}|cni-podman\d*|podman\d*|cni\d*|virbr\d*|lxcbr\d*|flannel\.\d+)$/;

const IpAddr = z.array(z.object({ ifname: z.string(), addr_info: z.array(z.object({ local: z.string().optional() })).default([]) }));
const IpRoute = z.array(z.object({ type: z.string().optional(), prefsrc: z.string().optional(), dev: z.string().optional() }));

async function ipJson(host: Host, args: string[]): Promise<unknown> {
  const result = await host.run(['ip', '-j', ...args]).catch((error: unknown) => ({ exitCode: 127, stdout: '', stderr: String(error) }));
  if (result.exitCode !== 0)
    throw new RootletError(
      'advertise-address',
      `cannot read this host's addresses (ip ${args.join(' ')}): ${result.stderr.trim() || `exit ${result.exitCode}`}`,
      {
        exitCode: ExitCode.usage,
        hint: 'give the address other hosts reach it at (--advertise-address, advertiseAddress in the cluster file; iproute2 provides ip)',
      },
    );
  try {
    return JSON.parse(result.stdout) as unknown;
  } catch {
    throw new RootletError(
      'advertise-address',
      `\`ip -j ${args.join(' ')}\` on ${host.id === 'local' ? 'this host' : host.id} did not answer JSON (iproute2 too old?)`,
      {
        exitCode: ExitCode.usage,
        hint: 'give the address other hosts reach it at (--advertise-address, advertiseAddress in the cluster file)',
      },
    );
  }
}

/** The IP address a host name resolves to here (what ssh connects to), or the address itself. */
export async function resolveAddress(name: string): Promise<string> {
  if (isIP(name) !== 0) return name;
  try {
    return (await lookup(name)).address;
  } catch (error) {
    throw new RootletError('resolve-host', `cannot resolve ${name}: ${error instanceof Error ? error.message : String(error)}`, {
      exitCode: ExitCode.ssh,
      hint: 'check the host name, or give its address',
    });
  }
}

/** Refuses an address that is loopback, not one of `host`'s, or an engine bridge's. */
export async function checkOwnAddress(host: Host, address: string, what: string): Promise<void> {
  if (isLoopback(address))
    throw new UsageError(`${what} ${address} is a loopback address: other hosts cannot reach it`, 'give the address of an interface the other hosts reach');
  const links = IpAddr.safeParse(await ipJson(host, ['addr', 'show'])).data ?? [];
  const link = links.find((candidate) => candidate.addr_info.some((info) => info.local === address));
  if (!link)
    throw new UsageError(
      `${what} ${address} is not an address of ${host.id === 'local' ? 'this host' : host.id}`,
      `use one of ${links
        .flatMap((candidate) => candidate.addr_info.map((info) => info.local))
        .filter((local): local is string => local !== undefined && !isLoopback(local))
        .join(', ')}`,
    );
  if (ENGINE_BRIDGE.test(link.ifname))
    throw new UsageError(
      `${what} ${address} belongs to ${link.ifname}, a container engine's bridge: other hosts cannot reach it`,
      "give the address of the host's own network interface",
    );
}

/**
 * The advertise address for a cluster that nodes on other hosts join, or undefined for a one-host cluster (neither an
 * address given nor hosts to join). `peers` are the addresses of the hosts to join.
 */
export async function chooseAdvertiseAddress(host: Host, given: string | undefined, peers: readonly string[]): Promise<string | undefined> {
  if (given !== undefined && given !== AUTO_ADDRESS) {
    await checkOwnAddress(host, given, 'the advertise address');
    return given;
  }
  if (given === undefined && peers.length === 0) return undefined;
  const towards = given === AUTO_ADDRESS ? '1.1.1.1' : peers[0]!;
  const [route] = IpRoute.safeParse(await ipJson(host, ['route', 'get', towards])).data ?? [];
  if (route?.type === 'local')
    throw new UsageError(
      `${towards} is an address of this host: rootlet cannot tell which address other hosts reach this one at`,
      'give it with --advertise-address (networking.advertiseAddress in the cluster file)',
    );
  if (route?.prefsrc === undefined)
    throw new UsageError(`no route to ${towards} gives this host a source address`, 'give the address with --advertise-address');
  await checkOwnAddress(host, route.prefsrc, `the address routing to ${towards}`);
  return route.prefsrc;
}
