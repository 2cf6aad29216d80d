/**
 * The hosts a cluster has joined, kept on the control host (where `up` and `join` run) so `status` and `down` find
 * them after a reboot: `$XDG_STATE_HOME/rootlet/<cluster>/hosts.json`, else `~/.local/state/rootlet/<cluster>/hosts.json`
 * (0600, beside the cluster's logs). No secrets: where to connect, with which key file, and the node there.
 */
import path from 'node:path';
import { z } from 'zod';
import { RootletError } from '../errors.js';
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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = MembersFile.safeParse(json);
  if (!parsed.success)
    throw new RootletError('member-list', `${file} is not a rootlet member list`, {
      hint: "fix it, or remove it (rootlet then no longer knows the cluster's other hosts: remove their nodes there as their users)",
    });
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

/** Clusters that have a member list on this host: `down --all` reaches their hosts even when the control plane is gone. */
export async function clustersWithMembers(host: Host, env: Record<string, string | undefined>): Promise<string[]> {
  const root = path.dirname(await logDirectory(host, env, 'any'));
  const names = await host.listDir(root).catch(() => [] as string[]);
  const found = await Promise.all(
    names.map(async (name) => ((await host.stat(path.join(root, name, 'hosts.json')).catch(() => undefined))?.type === 'file' ? name : undefined)),
  );
  return found.filter((name): name is string => name !== undefined);
}
