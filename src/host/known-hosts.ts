import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readTextIfExists, type Host } from './host.js';
import { DEFAULT_SSH_PORT } from './ssh-target.js';

/**
 * Host-key checking against OpenSSH known_hosts files, as ssh does it (hostfile.c, match.c):
 * - host field: plain names, comma lists, `[host]:port` for ports other than 22, wildcards `*` and `?`, negation
 *   `!pattern` (a matching negation rules the whole line out), hashed entries `|1|salt|hash` (HMAC-SHA1 of the name);
 *   names compare case-insensitively;
 * - markers: `@revoked` refuses the key it names for the hosts it matches; `@cert-authority` lines are skipped (rootlet
 *   does not check host certificates, so such a host counts as unknown);
 * - a key of the same type with different bytes is "changed" (every ECDSA curve counts as one type, as in ssh);
 *   a key matching any line is "known", even if another line holds an older key.
 * Not read: ssh_config's UserKnownHostsFile/GlobalKnownHostsFile, CheckHostIP entries, RevokedHostKeys files.
 */
export type HostKeyStatus = 'known' | 'unknown' | 'changed' | 'revoked';

export interface KnownHostsEntry {
  file: string;
  /** 1-based. */
  line: number;
  marker: 'revoked' | 'cert-authority' | undefined;
  /** The host field as written: a pattern list or one hashed name. */
  hosts: string;
  keyType: string;
  /** The key blob (the base64 field, decoded). */
  key: Buffer;
}

export interface HostKeyVerdict {
  status: HostKeyStatus;
  /** Of the key the server presented. */
  keyType: string;
  /** `SHA256:...`, as ssh and ssh-keygen -l print it. */
  fingerprint: string;
  /** The line that decided: the one that holds this key (known, revoked) or another key of its type (changed). */
  entry?: { file: string; line: number };
}

/** The name a host is filed under: `host` on port 22, `[host]:port` otherwise; lower case. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === DEFAULT_SSH_PORT ? name : `[${name}]:${port}`;
}

/** The key type named inside a public key blob (its first SSH string), e.g. `ssh-ed25519`. */
export function keyTypeOf(key: Uint8Array): string {
  const blob = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (blob.length < 4) return '';
  const length = blob.readUInt32BE(0);
  if (length > 64 || blob.length < 4 + length) return '';
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's SHA256 fingerprint: base64 of the blob's SHA-256, without padding. */
export function fingerprintOf(key: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The entries of one known_hosts file; lines ssh could not read either (bad base64, a type mismatch) are skipped. */
export function parseKnownHosts(text: string, file: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostsEntry['marker'];
    if (fields[0].startsWith('@')) {
      const name = fields.shift()!;
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      else return;
    }
    const [hosts, keyType, base64] = fields;
    if (hosts === undefined || keyType === undefined || base64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    if (keyTypeOf(key) !== keyType) return;
    entries.push({ file, line: index + 1, marker, hosts, keyType, key });
  });
  return entries;
}

/** Whether a known_hosts host field covers `name` (as knownHostsName gives it). */
export function hostFieldMatches(hosts: string, name: string): boolean {
  const lower = name.toLowerCase();
  if (hosts.startsWith('|')) return hashedMatches(hosts, lower);
  let positive = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatches(negated ? pattern.slice(1) : pattern, lower)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

/** Checks the key a server presented against every entry for it. */
export function checkHostKey(entries: readonly KnownHostsEntry[], host: string, port: number, key: Uint8Array): HostKeyVerdict {
  const keyType = keyTypeOf(key);
  const verdict = { keyType, fingerprint: fingerprintOf(key) };
  const name = knownHostsName(host, port);
  const mine = entries.filter((entry) => entry.marker !== 'cert-authority' && hostFieldMatches(entry.hosts, name));
  const same = (entry: KnownHostsEntry) => entry.key.equals(key);
  const revoked = mine.find((entry) => entry.marker === 'revoked' && same(entry));
  if (revoked) return { status: 'revoked', ...verdict, entry: at(revoked) };
  const plain = mine.filter((entry) => entry.marker === undefined);
  const known = plain.find(same);
  if (known) return { status: 'known', ...verdict, entry: at(known) };
  const other = plain.find((entry) => keyFamily(entry.keyType) === keyFamily(keyType));
  if (other) return { status: 'changed', ...verdict, entry: at(other) };
  // A host with a known key that now offers a key of another type is treated as changed, not new: otherwise whoever
  // intercepts the connection need only present a key of another type (rootlet asks for the known types first).
  if (plain[0]) return { status: 'changed', ...verdict, entry: at(plain[0]) };
  return { status: 'unknown', ...verdict };
}

/** Key types the files hold for this host, so the handshake can ask for a key that can be checked. */
export function knownKeyTypes(entries: readonly KnownHostsEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = entries.filter((entry) => entry.marker === undefined && hostFieldMatches(entry.hosts, name)).map((entry) => entry.keyType);
  return [...new Set(types)];
}

/** Every entry of the files that exist; a file that exists but cannot be read is an error, never "no keys". */
export async function readKnownHosts(local: Host, files: readonly string[]): Promise<KnownHostsEntry[]> {
  const texts = await Promise.all(files.map(async (file) => parseKnownHosts((await readTextIfExists(local, file)) ?? '', file)));
  return texts.flat();
}

/**
 * Appends `name keytype base64` to a known_hosts file, as ssh does after a first connection it was told to trust.
 * Missing directories are created 0700, a new file 0600; an existing file keeps its mode. Under `<file>.lock`, so
 * several hosts joined at once all get their line.
 */
export async function recordHostKey(local: Host, file: string, host: string, port: number, keyType: string, keyBase64: string): Promise<void> {
  if (!/^[A-Za-z0-9._:%-]+$/.test(host)) throw new Error(`not a host name for known_hosts: ${JSON.stringify(host)}`);
  if (!/^[a-z0-9@.-]+$/i.test(keyType)) throw new Error(`not a key type: ${JSON.stringify(keyType)}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) throw new Error('the host key is not base64');
  const line = `${knownHostsName(host, port)} ${keyType} ${keyBase64}`;
  await local.withLock(`${file}.lock`, async () => {
    const existing = (await readTextIfExists(local, file)) ?? '';
    // Checked again under the lock: another connection may have recorded a key for this host meanwhile.
    const now = checkHostKey(parseKnownHosts(existing, file), host, port, Buffer.from(keyBase64, 'base64'));
    if (now.status === 'known') return;
    if (now.status !== 'unknown') throw new Error(`${file} now holds another key for ${knownHostsName(host, port)} (line ${now.entry?.line ?? '?'})`);
    const mode = existing === '' ? 0o600 : ((await local.stat(file))?.mode ?? 0o600);
    const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
    await local.writeFile(file, `${existing}${separator}${line}\n`, { mode, followSymlink: true });
  });
}

function at(entry: KnownHostsEntry): { file: string; line: number } {
  return { file: entry.file, line: entry.line };
}

/** ssh compares key types without the curve: an ECDSA key on another curve is a changed key, not a new one. */
function keyFamily(keyType: string): string {
  return keyType.startsWith('ecdsa-sha2-') ? 'ecdsa' : keyType;
}

function hashedMatches(field: string, name: string): boolean {
  const [empty, version, salt, hash, ...rest] = field.split('|');
  if (empty !== '' || version !== '1' || salt === undefined || hash === undefined || rest.length > 0) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** OpenSSH's match_pattern: `*` any run of characters, `?` exactly one, everything else literal, case-insensitive. */
function wildcardMatches(pattern: string, name: string): boolean {
  const source = [...pattern.toLowerCase()].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+(){}[\]]/, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's').test(name);
}
