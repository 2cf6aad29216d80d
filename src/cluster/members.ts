/**
 * The hosts a cluster has joined, kept on the control host (where `up` and `join` run) so `status` and `down` find
 * them after a reboot: `$XDG_STATE_HOME/rootlet/<cluster>/hosts.json`, else `~/.local/state/rootlet/<cluster>/hosts.json`
 * (0600, beside the cluster's logs). No secrets: where to connect, with which key file, and the node there.
 */
import path from 'node:path';
import { z } from 'zod';
import { readTextIfExists, type Host } from '../host/host.js';
import { logDirectory } from './logs.js';

export const MemberHost = z.object({
  /** `user@host[:port]`, as targetId writes it: parses back to the same SSH target. */
  host: z.string(),
  /** The address the other hosts reach its node at (its kubelet and VXLAN ports are published there). */
  address: z.string(),
  node: z.string(),
  engine: z.string(),
  /** Key files the join connected with (--identity, the cluster file or ~/.ssh/config); empty: the defaults. */
  identityFiles: z.array(z.string()).default([]),
  joinedAt: z.string(),
});
export type MemberHost = z.infer<typeof MemberHost>;

const MembersFile = z.object({ cluster: z.string(), hosts: z.array(MemberHost) });

export async function membersFile(host: Host, env: Record<string, string | undefined>, cluster: string): Promise<string> {
  return path.join(await logDirectory(host, env, cluster), 'hosts.json');
}

/** The cluster's member hosts; none when the file is missing. A file that does not parse is an error, not "no hosts". */
export async function readMembers(host: Host, env: Record<string, string | undefined>, cluster: string): Promise<MemberHost[]> {
  const file = await membersFile(host, env, cluster);
  const text = await readTextIfExists(host, file);
  if (text === undefined) return [];
  const parsed = MembersFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a rootlet member list: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.hosts;
}

/**
 * Changes the member list under a lock (several joins finish at once); `change` gets the current list and returns the new
 * one. The file is removed when no host is left.
 */
export async function updateMembers(
  host: Host,
  env: Record<string, string | undefined>,
  cluster: string,
  change: (hosts: MemberHost[]) => MemberHost[],
): Promise<void> {
  const file = await membersFile(host, env, cluster);
  await host.withLock(`${file}.lock`, async () => {
    const next = change(await readMembers(host, env, cluster));
    if (next.length === 0) await host.removeFile(file);
    else await host.writeFile(file, `${JSON.stringify({ cluster, hosts: next }, null, 2)}\n`, { mode: 0o600 });
  });
}

/** Adds or replaces the entry of one host (by its id). */
export function withMember(hosts: readonly MemberHost[], member: MemberHost): MemberHost[] {
  return [...hosts.filter((other) => other.host !== member.host), member].sort((a, b) => a.host.localeCompare(b.host));
}
