import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../errors.js';

/** Where an SshHost connects: validated, so every part is safe in a host id, a label and a known_hosts line. */
export interface SshTarget {
  /** undefined: the local account's name, as ssh does. */
  user: string | undefined;
  /** A DNS name, an IPv4 address, or an IPv6 address without brackets. */
  host: string;
  port: number;
}

export const DEFAULT_SSH_PORT = 22;

const FORM = '[user@]host[:port] or [user@][ipv6-address]:port';
/** POSIX-ish account names as useradd accepts them (a trailing $ is a Samba machine account). */
const USER = /^[a-z_][a-z0-9_.-]*\$?$/i;
/** A DNS label: letters, digits, '-' and '_' (seen in internal names), never starting or ending with '-'. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
/** An IPv6 zone (fe80::1%eth0): interface names only. */
const ZONE = /^[a-z0-9_.-]+$/i;

/** Parses `[user@]host[:port]` or `[user@][v6]:port`; a usage error (exit 2) names the input and the accepted form. */
export function parseSshTarget(text: string): SshTarget {
  const invalid = (why: string) =>
    new UsageError(`invalid SSH host ${JSON.stringify(text)}: ${why}; expected ${FORM}`, `write the host as ${FORM}, e.g. alice@node2:2222`);
  const at = text.lastIndexOf('@');
  const user = at === -1 ? undefined : text.slice(0, at);
  const rest = at === -1 ? text : text.slice(at + 1);
  if (user === '') throw invalid('no user name before "@"');
  if (user !== undefined && !(user.length <= 256 && USER.test(user))) throw invalid('the user name has characters a login name cannot have');

  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) throw invalid('a "[" without its "]"');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw invalid(`unexpected text after "]"`);
    portText = after === '' ? undefined : after.slice(1);
    if (!isIpv6Address(host)) throw invalid('only an IPv6 address goes between brackets');
  } else if (rest.split(':').length > 2) {
    // Two or more colons: an IPv6 address without a port (ssh accepts that too).
    host = rest;
    if (!isIpv6Address(host)) throw invalid('not a valid IPv6 address (write an address with a port as [address]:port)');
  } else {
    const colon = rest.indexOf(':');
    host = colon === -1 ? rest : rest.slice(0, colon);
    portText = colon === -1 ? undefined : rest.slice(colon + 1);
    const why = hostNameProblem(host);
    if (why !== undefined) throw invalid(why);
  }

  let port = DEFAULT_SSH_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw invalid('the port is not a number');
    port = Number(portText);
    if (port < 1 || port > 65535) throw invalid('the port is not between 1 and 65535');
  }
  return { user, host, port };
}

/**
 * The host's id in labels and output: `user@host`, `user@host:port` when the port is not 22, IPv6 in brackets, so it
 * parses back to the same target.
 */
export function targetId(target: SshTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const user = target.user === undefined ? '' : `${target.user}@`;
  if (target.port !== DEFAULT_SSH_PORT) return `${user}${host}:${target.port}`;
  return `${user}${host}`;
}

function hostNameProblem(host: string): string | undefined {
  if (host === '') return 'no host name';
  if (isIPv4(host)) return undefined;
  if (host.length > 253) return 'the host name is longer than 253 characters';
  const labels = host.split('.');
  if (!labels.every((label) => LABEL.test(label))) return 'a host name has only letters, digits, "-", "_" and dots, and starts with a letter or digit';
  // 10.1.2 or 300.1.1.1 are not names a resolver should be handed.
  if (labels.every((label) => /^\d+$/.test(label))) return 'not a valid IPv4 address';
  return undefined;
}

function isIpv6Address(text: string): boolean {
  const [address = '', zone, ...more] = text.split('%');
  if (more.length > 0 || (zone !== undefined && !ZONE.test(zone))) return false;
  return isIPv6(address);
}
