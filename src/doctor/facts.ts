import { gunzipSync } from 'node:zlib';
import { UsageError } from '../errors.js';
import { readTextIfExists, type Host } from '../host/host.js';
import { packageManagerOf, type PackageManager } from './packages.js';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

export interface SubIdRange {
  /** A user name or a numeric uid, as written in the file. */
  owner: string;
  start: number;
  count: number;
  line: number;
}

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy';

export interface OsRelease {
  id: string;
  idLike: string[];
  prettyName: string;
}

/**
 * What the doctor reads about a host, each fact read once and shared by the checks
 * that run concurrently. Every fact comes from a file, so a sysroot can stand in for the host.
 */
export class HostFacts {
  readonly #host: Host;
  readonly #memo = new Map<string, Promise<unknown>>();

  constructor(host: Host) {
    this.#host = host;
  }

  #once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let value = this.#memo.get(key) as Promise<T> | undefined;
    if (!value) {
      value = read();
      this.#memo.set(key, value);
    }
    return value;
  }

  text(path: string): Promise<string | undefined> {
    return this.#once(`file:${path}`, () => readTextIfExists(this.#host, path));
  }

  /** A sysctl by its dotted name: its first line, trimmed; undefined when the kernel has no such knob. */
  async sysctl(name: string): Promise<string | undefined> {
    return (await this.text(`/proc/sys/${name.replaceAll('.', '/')}`))?.split('\n')[0]!.trim();
  }

  kernelRelease(): Promise<string> {
    return this.#once('kernel', async () => {
      const release = (await this.text('/proc/sys/kernel/osrelease'))?.split('\n')[0]!.trim();
      if (!release) throw new Error('cannot read /proc/sys/kernel/osrelease');
      return release;
    });
  }

  /** CONFIG_* symbols set to y or m, from /boot/config-RELEASE or /proc/config.gz; undefined when neither exists. */
  kernelConfig(): Promise<Map<string, 'y' | 'm'> | undefined> {
    return this.#once('kconfig', async () => {
      const release = await this.kernelRelease();
      let text = await this.text(`/boot/config-${release}`);
      if (text === undefined && (await this.#host.stat('/proc/config.gz'))) {
        text = gunzipSync(await this.#host.readBytes('/proc/config.gz')).toString('utf8');
      }
      if (text === undefined) return undefined;
      const config = new Map<string, 'y' | 'm'>();
      for (const match of text.matchAll(/^CONFIG_(\w+)=([ym])$/gm)) config.set(match[1]!, match[2] as 'y' | 'm');
      return config;
    });
  }

  accounts(): Promise<Account[]> {
    return this.#once('passwd', async () => {
      const text = await this.#host.readText('/etc/passwd');
      return parseColonFile(text).flatMap(([name, , uid, gid]) => (name && isId(uid) && isId(gid) ? [{ name, uid: Number(uid), gid: Number(gid) }] : []));
    });
  }

  /** The account the cluster runs as; a usage error when it does not exist. */
  account(name: string): Promise<Account> {
    return this.#once(`account:${name}`, () => this.#lookUp(name));
  }

  async #lookUp(name: string): Promise<Account> {
    const found = (await this.accounts()).find((account) => account.name === name) ?? (await this.#directoryAccount(name));
    if (!found) {
      throw new UsageError(`user ${name} does not exist in /etc/passwd`, 'Pass an existing account with --user NAME.');
    }
    return found;
  }

  /** Accounts from LDAP or SSSD (common on HPC clusters) are not in /etc/passwd; only the live system can name them. */
  async #directoryAccount(name: string): Promise<Account | undefined> {
    if (!this.#host.live) return undefined;
    const result = await this.#host.run(['getent', 'passwd', '--', name], { timeoutMs: COMMAND_TIMEOUT_MS });
    const [found, , uid, gid] = result.exitCode === 0 ? result.stdout.trim().split(':') : [];
    return found === name && isId(uid) && isId(gid) ? { name, uid: Number(uid), gid: Number(gid) } : undefined;
  }

  /** Group ids the user belongs to: the primary group and every /etc/group membership. */
  async groupIds(account: Account): Promise<Set<number>> {
    const text = (await this.text('/etc/group')) ?? '';
    const ids = new Set([account.gid]);
    for (const [, , gid, members] of parseColonFile(text)) {
      if (isId(gid) && (members ?? '').split(',').includes(account.name)) ids.add(Number(gid));
    }
    return ids;
  }

  subIds(file: '/etc/subuid' | '/etc/subgid'): Promise<SubIdRange[]> {
    return this.#once(file, async () => {
      const text = (await this.text(file)) ?? '';
      return text.split('\n').flatMap((raw, index) => {
        const [owner, start, count] = raw.trim().split(':');
        if (!owner || owner.startsWith('#') || !isId(start) || !isId(count)) return [];
        return [{ owner, start: Number(start), count: Number(count), line: index + 1 }];
      });
    });
  }

  /** The ranges `account` owns in FILE, by name or by uid. */
  async subIdsOf(account: Account, file: '/etc/subuid' | '/etc/subgid'): Promise<SubIdRange[]> {
    return (await this.subIds(file)).filter((range) => isOwner(range, account));
  }

  cgroupLayout(): Promise<CgroupLayout> {
    return this.#once('cgroup', async () => {
      if (await this.#host.stat('/sys/fs/cgroup/cgroup.controllers')) return 'unified';
      if (await this.#host.stat('/sys/fs/cgroup/unified/cgroup.controllers')) return 'hybrid';
      return 'legacy';
    });
  }

  osRelease(): Promise<OsRelease> {
    return this.#once('os-release', async () => {
      const text = (await this.text('/etc/os-release')) ?? (await this.text('/usr/lib/os-release')) ?? '';
      const fields = parseOsRelease(text);
      return {
        id: fields.get('ID') ?? 'linux',
        idLike: (fields.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean),
        prettyName: fields.get('PRETTY_NAME') ?? 'Linux',
      };
    });
  }

  async packageManager(): Promise<PackageManager | undefined> {
    return packageManagerOf(await this.osRelease());
  }
}

/** How long a look-up command (getent, getcap) may take before the check reports it. */
export const COMMAND_TIMEOUT_MS = 5000;

/** os-release(5): KEY=value, with the value bare, "double" or 'single' quoted, and \\ escapes in double quotes. */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of text.matchAll(/^([A-Z0-9_]+)=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))\s*$/gm)) {
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? match[4] ?? '');
    fields.set(match[1]!, value);
  }
  return fields;
}

export function isOwner(range: SubIdRange, account: Account): boolean {
  return range.owner === account.name || range.owner === String(account.uid);
}

export function isId(value: string | undefined): value is string {
  return value !== undefined && /^\d+$/.test(value);
}

function parseColonFile(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'));
}
