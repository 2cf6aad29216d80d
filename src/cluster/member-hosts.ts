/**
 * Reaching a cluster's member hosts again after the join (status, down): over SSH with the key files the join used,
 * host keys checked against known_hosts (never accepted anew here), their rootless engine through the connection.
 */
import { connectEngine } from '../engine/connect.js';
import type { Engine } from '../engine/engine.js';
import type { NodeState } from '../engine/types.js';
import { RootletError } from '../errors.js';
import type { SshHost } from '../host/ssh-host.js';
import { parseSshTarget, type SshTarget } from '../host/ssh-target.js';
import type { MemberHost } from './members.js';

export type SshConnect = (target: SshTarget, options: { identityFiles: string[]; acceptNewHostKeys: boolean; signal: AbortSignal }) => Promise<SshHost>;

/** Runs `body` with the member host's engine; the connection is closed afterwards, whatever happened. */
export async function withMemberEngine<T>(
  member: MemberHost,
  connect: SshConnect,
  signal: AbortSignal,
  body: (engine: Engine, ssh: SshHost) => Promise<T>,
): Promise<T> {
  const ssh = await connect(parseSshTarget(member.host), { identityFiles: member.identityFiles, acceptNewHostKeys: false, signal });
  try {
    const uid = Number((await ssh.run(['id', '-u'])).stdout.trim());
    const engine = await connectEngine(ssh, { env: {}, uid });
    return await body(engine, ssh);
  } finally {
    await ssh.dispose();
  }
}

/** A failure on a member host as a one-line error with the next step, whatever threw it. */
export function memberHostError(member: MemberHost, error: unknown): RootletError {
  if (error instanceof RootletError) return error;
  return new RootletError('member-host', `${member.host}: ${error instanceof Error ? error.message : String(error)}`, {
    hint: `check that \`ssh ${member.host}\` works and its engine runs, then run the command again`,
  });
}

export interface MemberNodes {
  host: string;
  nodes: NodeState[];
  /** Why the host could not be asked. */
  error?: RootletError | undefined;
}

/** The cluster's nodes on every member host, concurrently; an unreachable host is an outcome, not an exception. */
export async function memberNodes(members: readonly MemberHost[], cluster: string, connect: SshConnect, signal: AbortSignal): Promise<MemberNodes[]> {
  return Promise.all(
    members.map(async (member) => {
      try {
        const nodes = await withMemberEngine(member, connect, signal, (engine) => engine.listNodes(cluster));
        return { host: member.host, nodes };
      } catch (error) {
        return { host: member.host, nodes: [], error: memberHostError(member, error) };
      }
    }),
  );
}
