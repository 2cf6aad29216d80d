/**
 * HOST arguments as ssh reads them: `[user@]host[:port]` where host may be a Host alias of ~/.ssh/config (or
 * --ssh-config FILE). The alias's HostName, User, Port and IdentityFile apply, first match wins as in ssh_config(5);
 * what is written in the argument wins over the file. Options rootlet does not follow (ProxyJump, ProxyCommand) are
 * refused rather than silently ignored: the connection would go elsewhere than the user configured.
 */
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { UsageError } from '../errors.js';
import { readTextIfExists, type Host } from './host.js';
import { parseSshTarget, type SshTarget } from './ssh-target.js';

export interface ResolvedSshHost {
  target: SshTarget;
  /** Key files for this host: the caller's (--identity) first, then the config's IdentityFile lines. */
  identityFiles: string[];
}

export interface SshConfigOptions {
  /** --ssh-config: this file instead of ~/.ssh/config; it must exist. */
  configFile?: string | undefined;
  /** Key files given for every host (--identity), tried before the config's. */
  identityFiles?: readonly string[];
}

const NOT_FOLLOWED = ['ProxyJump', 'ProxyCommand', 'RemoteCommand', 'LocalCommand'];

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function all(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** `~/` and the tokens ssh expands in HostName and IdentityFile that rootlet knows; any other %-token is refused. */
function expand(value: string, tokens: Record<string, string>, where: string): string {
  const expanded = value.replace(/%(.)/g, (whole, token: string) => {
    if (token === '%') return '%';
    const known = tokens[token];
    if (known === undefined)
      throw new UsageError(`${where}: the token ${whole} in "${value}" is not one rootlet expands`, 'write the value out in the ssh config');
    return known;
  });
  return expanded.startsWith('~/') ? path.join(tokens.d!, expanded.slice(2)) : expanded;
}

/** An absolute key path: `~/` is the home directory, a relative path is taken from the working directory. */
export function expandHome(file: string, home: string): string {
  return file.startsWith('~/') ? path.join(home, file.slice(2)) : path.resolve(file);
}

export async function resolveSshHost(local: Host, text: string, options: SshConfigOptions = {}): Promise<ResolvedSshHost> {
  const given = parseSshTarget(text);
  const afterUser = text.slice(text.lastIndexOf('@') + 1);
  const portGiven = /^\[.*\]:\d+$/.test(afterUser) || /^[^:[\]]*:\d+$/.test(afterUser);
  const home = await local.homeDir();
  const file = options.configFile ?? path.join(home, '.ssh', 'config');
  const configText = await readTextIfExists(local, path.resolve(file)).catch((error: unknown) => {
    throw new UsageError(`cannot read the ssh config ${file}: ${error instanceof Error ? error.message : String(error)}`, 'fix the file or its permissions');
  });
  if (configText === undefined && options.configFile !== undefined)
    throw new UsageError(`the ssh config ${options.configFile} does not exist`, 'pass --ssh-config with an existing file');
  let config: SSHConfig | undefined;
  try {
    config = configText === undefined ? undefined : SSHConfig.parse(configText);
  } catch (error) {
    throw new UsageError(
      `cannot read the ssh config ${file}: ${error instanceof Error ? error.message : String(error)}`,
      'fix the file (ssh -G HOST shows how ssh reads it), or pass --ssh-config with another',
    );
  }
  // What rootlet would read differently from ssh is refused rather than guessed: files it includes, commands it runs.
  const unsupported = /^\s*(include\b|match\b.*\bexec\b)/im.exec(configText ?? '')?.[1];
  if (unsupported !== undefined)
    throw new UsageError(
      `the ssh config ${file} uses ${unsupported
        .trim()
        .split(/\s+/)[0]!
        .replace(/^./, (c) => c.toUpperCase())}${/^match/i.test(unsupported) ? ' exec' : ''}, which rootlet does not follow`,
      'give rootlet a config without it (--ssh-config FILE), or write the host as user@address:port',
    );
  // Keywords are case-insensitive in ssh_config(5); Match exec is never run.
  const lowered = config?.compute(given.host, { ignoreCase: true, matchExec: false }) ?? {};
  /** One option's value(s), by its ssh_config(5) name (compute lowercases every keyword with ignoreCase). */
  const option = (name: string) => lowered[name.toLowerCase()];
  for (const name of NOT_FOLLOWED)
    if (option(name) !== undefined && !(name === 'ProxyJump' && first(option(name))?.toLowerCase() === 'none'))
      throw new UsageError(
        `${text}: the ssh config sets ${name} for it, which rootlet does not follow`,
        'give rootlet a host it reaches directly (a Host entry without ProxyJump/ProxyCommand), or connect over a VPN',
      );
  const where = `ssh config ${file}, Host ${given.host}`;
  const hostName = first(option('HostName'));
  const user = given.user ?? first(option('User'));
  const portText = portGiven ? undefined : first(option('Port'));
  const host = hostName === undefined ? given.host : expand(hostName, { h: given.host, d: home }, where);
  // The resolved parts are checked as strictly as an argument: a config cannot smuggle in what a HOST could not.
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const port = portText === undefined ? given.port : Number(portText);
  const target = parseSshTarget(`${user ?? (await local.user())}@${bracketed}:${port}`);
  // No user anywhere: this account's name, as ssh does (and as the cluster's member list records it).
  const login = user ?? (await local.user());
  const tokens = { h: host, d: home, u: login, p: String(port) };
  // Given key files must exist (SshHost says so); the config's are skipped when missing, as ssh skips them.
  const fromConfig = all(option('IdentityFile')).map((identity) => expand(identity, tokens, where));
  const present = await Promise.all(fromConfig.map(async (identity) => ((await local.stat(identity).catch(() => undefined)) ? identity : undefined)));
  const identityFiles = [
    ...(options.identityFiles ?? []).map((identity) => expandHome(identity, home)),
    ...present.filter((identity) => identity !== undefined),
  ];
  return { target, identityFiles: [...new Set(identityFiles)] };
}
