import { readFileSync } from 'node:fs';
import type { EngineKind } from '../../src/engine/types.js';

/**
 * Written by scripts/engines/provision.sh (its sshd part is scripts/ssh/provision-sshd.sh), which `make test` runs
 * first: a test sshd on 127.0.0.1:2222, separate from the machine's own, and local users that act as hosts.
 */
const ENV_FILE = '/run/rootlet-test-engines.env';

/** A local user that plays a remote host: its own rootless engine, reached over the test sshd. */
export interface SshRemote {
  user: string;
  engine: EngineKind;
  /**
   * The engine's socket on that "host": /run/user/UID/... The SSH session itself has no XDG_RUNTIME_DIR (no
   * logind on these machines), as intended: rootlet falls back to /run/user/UID.
   */
  socket: string;
  /** Its own address on lo (10.77.0.x): where the test sshd also listens, and where its node's ports are published. */
  address: string;
}

export interface SshFacts {
  host: string;
  port: number;
  /** The client private key (root's, mode 0600); the `clients` users have a copy as ~/.ssh/id_ed25519. */
  key: string;
  /**
   * One line, `[127.0.0.1]:2222 ssh-ed25519 AAAA...`: the test sshd's host key. No user's ~/.ssh/known_hosts has it
   * (host-key checking is under test): build known_hosts files from it.
   */
  knownHosts: string;
  /** rootlet-remote1 (rootless Podman) and rootlet-remote2 (rootless Docker). */
  remotes: [SshRemote, SshRemote];
  /** Every user that accepts the client key and may log in (the remotes and the local engine users). */
  logins: string[];
  /** The users that hold the client key as ~/.ssh/id_ed25519: the ones that run the CLI as the control host. */
  clients: string[];
  /** The address of the Podman user (rootlet-podman) as a control host, on lo. */
  controlAddress: string;
}

function readEnvFile(): Record<string, string> {
  try {
    return Object.fromEntries(
      readFileSync(ENV_FILE, 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => {
          const at = line.indexOf('=');
          return [line.slice(0, at), line.slice(at + 1)];
        }),
    );
  } catch {
    return {};
  }
}

/** The provisioned SSH test setup: from the environment, else from provision.sh's file; undefined when incomplete. */
export function sshFacts(): SshFacts | undefined {
  const fromFile = readEnvFile();
  const pick = (name: string): string | undefined => process.env[name] ?? fromFile[name];
  const list = (name: string): string[] => (pick(name) ?? '').split(',').filter(Boolean);
  const remote = (n: 1 | 2): SshRemote | undefined => {
    const user = pick(`ROOTLET_TEST_REMOTE${n}`);
    const engine = pick(`ROOTLET_TEST_REMOTE${n}_ENGINE`);
    const socket = pick(`ROOTLET_TEST_REMOTE${n}_SOCKET`);
    const address = pick(`ROOTLET_TEST_REMOTE${n}_ADDRESS`);
    if (!user || !socket || !address || (engine !== 'podman' && engine !== 'docker')) return undefined;
    return { user, engine, socket, address };
  };
  const host = pick('ROOTLET_TEST_SSH_HOST');
  const port = Number(pick('ROOTLET_TEST_SSH_PORT'));
  const key = pick('ROOTLET_TEST_SSH_KEY');
  const knownHosts = pick('ROOTLET_TEST_SSH_KNOWN_HOSTS');
  const remote1 = remote(1);
  const remote2 = remote(2);
  const controlAddress = pick('ROOTLET_TEST_PODMAN_ADDRESS');
  if (!host || !Number.isInteger(port) || port <= 0 || !key || !knownHosts || !remote1 || !remote2 || !controlAddress) return undefined;
  return {
    host,
    port,
    key,
    knownHosts,
    remotes: [remote1, remote2],
    logins: list('ROOTLET_TEST_SSH_LOGINS'),
    clients: list('ROOTLET_TEST_SSH_CLIENTS'),
    controlAddress,
  };
}

/** The test sshd's known_hosts line, `[127.0.0.1]:2222 ssh-ed25519 AAAA...`, or for another of its addresses. */
export function knownHostsLine(facts: SshFacts, address = facts.host): string {
  const line = readFileSync(facts.knownHosts, 'utf8').trim();
  return address === facts.host ? line : line.replace(/^\S+/, `[${address}]:${facts.port}`);
}

/**
 * Options for the system `ssh` client against the test sshd: no user or system ssh config, this key (null: the
 * user's default ~/.ssh/id_*), only the given known_hosts file, strict host-key checking, never a prompt.
 */
export function sshOptions(facts: SshFacts, knownHostsFile: string, key: string | null = facts.key): string[] {
  return [
    '-F',
    '/dev/null',
    ...(key === null ? [] : ['-i', key]),
    '-o',
    'IdentitiesOnly=yes',
    '-p',
    String(facts.port),
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
  ];
}

export const MISSING_SSH =
  'SKIPPED: no test sshd and remote-host users on this machine; run `bash scripts/engines/provision.sh` as root (make test does). CI counts this skip as a failure.';
