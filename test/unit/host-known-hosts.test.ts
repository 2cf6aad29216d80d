import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostFileError } from '../../src/host/host.js';
import {
  checkHostKey,
  fingerprintOf,
  hostFieldMatches,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
  readKnownHosts,
  recordHostKey,
} from '../../src/host/known-hosts.js';
import { LocalHost } from '../../src/host/local-host.js';

/** Keys made with ssh-keygen; fingerprints as `ssh-keygen -lf` printed them. */
const ED25519 = {
  type: 'ssh-ed25519',
  base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIOFSe5yb2ihd74nyrHv0JwkwtUWuILdlEj8EE6kitvB6',
  fingerprint: 'SHA256:smM2Gw/XLrQvjjvzXGvIjRKO7DHG51RC96PsrhKMHKA',
};
const ED25519_OTHER = {
  type: 'ssh-ed25519',
  base64: 'AAAAC3NzaC1lZDI1NTE5AAAAINipMt3JN7wvxWp7DVpK4gYqqid6aM9un/sCuLaW1FmB',
  fingerprint: 'SHA256:QnndZBW4E+We6I6DXuhJ4KgvbR4SO9r5RNP8wfkY6wQ',
};
const ECDSA256 = {
  type: 'ecdsa-sha2-nistp256',
  base64: 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMurswc0lxA3bgqSEV5og/yNeHXcxZlVPsSoAgar11oCTfdgzoQv5bPFy4D6sogFebbS+a4Vw2KyCHybPJ5x43s=',
  fingerprint: 'SHA256:PdzS2mGdjHNhpejSVMFqWBN2CNnwGmURY1Ql3NEQqs4',
};
const ECDSA384 = {
  type: 'ecdsa-sha2-nistp384',
  base64:
    'AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBPR5LPzdXp/1uVHMczS/zVn/+fYR8QD1GH4pp4Xo3fBXZYYK5oICzgebOf/+R/YuYLShRSP+kwnEBqFWcaLtvnrO8+ZxdtlIxh+j9M8kLBxR0g4erXoobWfVsQAyDot6fA==',
  fingerprint: 'SHA256:TiTx7l2fwntAVorddj9O6Hlyv/uAdBirF/PcKQ7BsNg',
};
const RSA = {
  type: 'ssh-rsa',
  base64:
    'AAAAB3NzaC1yc2EAAAADAQABAAABAQDiBt/s3jjmwIzskM9w4xxwmf7OVAp9klnw0nC6XnYhTDzLfk28YwT8LH6ZKmK8GuXLhii7vTqQulLtzYNgLcIgfjp270T17OVZR9eomh5+w+BBlZbQYlNKR4i89E9dqGmYNtTQmbqxHJFLuMGzayhEt7GFwOW3csIqiw8q/Zp2P5nnyCujoWfL9SHSXot6eBPKBK57gwpI8ybUMWtntew1aTYSpu4Xtk89dTzCdJopasftr4wsAxsc6EmmAVfjv+4ONtnb+CDk32Yiru3G2BXF9iEQJwdDBvi7W7BpctabFp+K8aLuTQYscEWv32FLVaDMlE5ZjxKa7ALCOGqdlV2h',
  fingerprint: 'SHA256:ArcfBc6MvaDx5K7AUANlpo+2DJjPY9vTjwaZC36CAS8',
};
/** `ssh-keygen -H` of "node2.example.org" (ED25519) and "[10.0.0.7]:2222" (ECDSA256). */
const HASHED_NODE2 = '|1|7dcL7qUW8DUq8P4pYOHZt6Yp+ok=|8BsDD5wuYtzZroYR/WhmH0NNR+E=';
const HASHED_10_0_0_7 = '|1|kpEst4aq15ZUOrX+YHYcD0YOq0g=|QvBGvVCR0JUOiKaOdMp9UGuymtw=';

const blob = (key: { base64: string }) => Buffer.from(key.base64, 'base64');
const line = (hosts: string, key: { type: string; base64: string }, marker = '') => `${marker}${marker ? ' ' : ''}${hosts} ${key.type} ${key.base64}`;
const check = (text: string, host: string, port: number, key: { base64: string }) => checkHostKey(parseKnownHosts(text, 'kh'), host, port, blob(key));

describe('fingerprints and key types', () => {
  it.each([ED25519, ED25519_OTHER, ECDSA256, ECDSA384, RSA])('$type $fingerprint is what ssh-keygen -l prints', (key) => {
    expect(fingerprintOf(blob(key))).toBe(key.fingerprint);
    expect(keyTypeOf(blob(key))).toBe(key.type);
  });

  it('names no type for a blob too short to hold one', () => {
    expect(keyTypeOf(new Uint8Array([0, 0, 1]))).toBe('');
    expect(keyTypeOf(new Uint8Array([0, 0, 0, 20, 65]))).toBe('');
  });
});

describe('knownHostsName', () => {
  it('files port 22 under the bare name, other ports as [host]:port, in lower case', () => {
    expect(knownHostsName('Node2.Example.org', 22)).toBe('node2.example.org');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostsName('fd00::7', 22)).toBe('fd00::7');
    expect(knownHostsName('fd00::7', 2200)).toBe('[fd00::7]:2200');
  });
});

describe('parseKnownHosts', () => {
  it('reads markers and line numbers, and skips comments, blank lines and lines ssh could not use either', () => {
    const text = [
      '# a comment',
      '',
      line('node2', ED25519),
      `  ${line('node3', RSA)} a comment after the key`,
      line('node4', ED25519, '@revoked'),
      line('*.example.org', ECDSA256, '@cert-authority'),
      line('node5', ED25519, '@unknown-marker'),
      'node6 ssh-ed25519 not*base64',
      `node7 ssh-rsa ${ED25519.base64}`,
      'node8 ssh-ed25519',
    ].join('\n');
    const entries = parseKnownHosts(text, '/home/a/.ssh/known_hosts');
    expect(entries.map(({ line: at, marker, hosts, keyType }) => ({ at, marker, hosts, keyType }))).toEqual([
      { at: 3, marker: undefined, hosts: 'node2', keyType: 'ssh-ed25519' },
      { at: 4, marker: undefined, hosts: 'node3', keyType: 'ssh-rsa' },
      { at: 5, marker: 'revoked', hosts: 'node4', keyType: 'ssh-ed25519' },
      { at: 6, marker: 'cert-authority', hosts: '*.example.org', keyType: 'ecdsa-sha2-nistp256' },
    ]);
    expect(entries[0]!.file).toBe('/home/a/.ssh/known_hosts');
    expect(entries[0]!.key.equals(blob(ED25519))).toBe(true);
  });
});

describe('hostFieldMatches', () => {
  it.each([
    ['node2', 'node2', true],
    ['node2', 'NODE2', true],
    ['NODE2', 'node2', true],
    ['node2', 'node22', false],
    ['node1,node2,10.0.0.2', 'node2', true],
    ['node1,node2,10.0.0.2', '10.0.0.2', true],
    ['node1,node3', 'node2', false],
    ['[node2]:2222', '[node2]:2222', true],
    ['node2', '[node2]:2222', false],
    ['[node2]:2222', 'node2', false],
    ['*.example.org', 'a.example.org', true],
    ['*.example.org', 'example.org', false],
    ['*.example.org,!bad.example.org', 'bad.example.org', false],
    ['!bad.example.org,*.example.org', 'bad.example.org', false],
    ['!bad.example.org', 'good.example.org', false],
    ['[gpu-??]:2222', '[gpu-07]:2222', true],
    ['[gpu-??]:2222', '[gpu-7]:2222', false],
    ['10.0.0.*', '10.0.0.17', true],
    ['node.2', 'nodex2', false],
    ['[*]:2222', '[fd00::7]:2222', true],
    [HASHED_NODE2, 'node2.example.org', true],
    [HASHED_NODE2, 'NODE2.example.org', true],
    [HASHED_NODE2, 'node3.example.org', false],
    [HASHED_10_0_0_7, '[10.0.0.7]:2222', true],
    [HASHED_10_0_0_7, '10.0.0.7', false],
    ['|1|bad', 'node2', false],
  ])('%s covers %s: %s', (hosts, name, expected) => {
    expect(hostFieldMatches(hosts, name)).toBe(expected);
  });
});

describe('checkHostKey', () => {
  it('knows a key filed under the host, its port form, a list, a wildcard or a hash', () => {
    expect(check(line('node2', ED25519), 'node2', 22, ED25519)).toEqual({
      status: 'known',
      keyType: 'ssh-ed25519',
      fingerprint: ED25519.fingerprint,
      entry: { file: 'kh', line: 1 },
    });
    expect(check(line('[127.0.0.1]:2222', ED25519), '127.0.0.1', 2222, ED25519).status).toBe('known');
    expect(check(line('node1,node2', RSA), 'node2', 22, RSA).status).toBe('known');
    expect(check(line('*.lab', ECDSA256), 'gpu1.lab', 22, ECDSA256).status).toBe('known');
    expect(check(line(HASHED_NODE2, ED25519), 'node2.example.org', 22, ED25519).status).toBe('known');
    expect(check(line(HASHED_10_0_0_7, ECDSA256), '10.0.0.7', 2222, ECDSA256).status).toBe('known');
  });

  it('does not know a host filed under another port, or only for a negated pattern', () => {
    expect(check(line('127.0.0.1', ED25519), '127.0.0.1', 2222, ED25519).status).toBe('unknown');
    expect(check(line('*.lab,!gpu1.lab', ED25519), 'gpu1.lab', 22, ED25519).status).toBe('unknown');
    expect(check('', 'node2', 22, ED25519)).toEqual({ status: 'unknown', keyType: 'ssh-ed25519', fingerprint: ED25519.fingerprint });
  });

  it('calls another key of the same type changed, naming the line that holds the old one', () => {
    const text = ['# keys', line('node1', ED25519_OTHER), line('node2', ED25519_OTHER)].join('\n');
    expect(check(text, 'node2', 22, ED25519)).toEqual({
      status: 'changed',
      keyType: 'ssh-ed25519',
      fingerprint: ED25519.fingerprint,
      entry: { file: 'kh', line: 3 },
    });
    expect(check(line(HASHED_NODE2, ED25519_OTHER), 'node2.example.org', 22, ED25519).status).toBe('changed');
  });

  it('counts every ECDSA curve as one type, as ssh does', () => {
    expect(check(line('node2', ECDSA384), 'node2', 22, ECDSA256).status).toBe('changed');
  });

  it('calls a key of another type changed when the host has a known key (no downgrade to "unknown")', () => {
    expect(check(line('node2', RSA), 'node2', 22, ED25519)).toMatchObject({ status: 'changed', entry: { line: 1 } });
    expect(check(line('node3', RSA), 'node2', 22, ED25519).status).toBe('unknown');
  });

  it('knows a key listed on any line, even with an older key of its type on another', () => {
    const text = [line('node2', ED25519_OTHER), line('node2', ED25519)].join('\n');
    expect(check(text, 'node2', 22, ED25519)).toMatchObject({ status: 'known', entry: { line: 2 } });
  });

  it('refuses a revoked key even when another line lists it as known', () => {
    const text = [line('node2', ED25519), line('*', ED25519, '@revoked')].join('\n');
    expect(check(text, 'node2', 22, ED25519)).toMatchObject({ status: 'revoked', entry: { line: 2 } });
    expect(check(line('node9', ED25519, '@revoked'), 'node2', 22, ED25519).status).toBe('unknown');
  });

  it('ignores @cert-authority lines: rootlet does not check host certificates', () => {
    expect(check(line('node2', ED25519, '@cert-authority'), 'node2', 22, ED25519).status).toBe('unknown');
    expect(check(line('node2', ED25519_OTHER, '@cert-authority'), 'node2', 22, ED25519).status).toBe('unknown');
  });

  it('lists the key types on file for a host, to ask the server for one of them', () => {
    const entries = parseKnownHosts([line('node2', RSA), line('node2', ECDSA256), line('node3', ED25519), line('node2', RSA)].join('\n'), 'kh');
    expect(knownKeyTypes(entries, 'node2', 22)).toEqual(['ssh-rsa', 'ecdsa-sha2-nistp256']);
    expect(knownKeyTypes(entries, 'node2', 2222)).toEqual([]);
  });
});

describe('known_hosts files', () => {
  let dir: string;
  const local = new LocalHost();

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rootlet-known-hosts-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads several files, each line with its file, and takes a missing file as empty', async () => {
    const user = path.join(dir, 'known_hosts');
    const global = path.join(dir, 'ssh_known_hosts');
    await writeFile(user, `${line('node1', RSA)}\n`);
    await writeFile(global, `# managed\n${line('node2', ED25519)}\n`);
    const entries = await readKnownHosts(local, [user, path.join(dir, 'missing'), global]);
    expect(entries.map((entry) => `${entry.file}:${entry.line}`)).toEqual([`${user}:1`, `${global}:2`]);
    expect(checkHostKey(entries, 'node2', 22, blob(ED25519)).entry).toEqual({ file: global, line: 2 });
  });

  it('fails on a known_hosts that exists but cannot be read, rather than trusting nothing silently', async () => {
    const notAFile = path.join(dir, 'known_hosts');
    await mkdir(notAFile);
    await expect(readKnownHosts(local, [notAFile])).rejects.toBeInstanceOf(HostFileError);
  });

  it('records a key in a new file: directory 0700, file 0600, the line ssh writes', async () => {
    const file = path.join(dir, 'home/.ssh/known_hosts');
    await recordHostKey(local, file, '127.0.0.1', 2222, ED25519.type, ED25519.base64);
    expect(await readFile(file, 'utf8')).toBe(`[127.0.0.1]:2222 ${ED25519.type} ${ED25519.base64}\n`);
    expect((await stat(file)).mode & 0o7777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o7777).toBe(0o700);
    expect((await readKnownHosts(local, [file])).length).toBe(1);
    expect(checkHostKey(await readKnownHosts(local, [file]), '127.0.0.1', 2222, blob(ED25519)).status).toBe('known');
  });

  it('appends to an existing file, keeping its lines and mode, and records a key once', async () => {
    const file = path.join(dir, 'known_hosts');
    await writeFile(file, `# mine\n${line('node1', RSA)}`);
    await chmod(file, 0o644);
    await recordHostKey(local, file, 'Node2', 22, ED25519.type, ED25519.base64);
    await recordHostKey(local, file, 'node2', 22, ED25519.type, ED25519.base64);
    await recordHostKey(local, file, 'fd00::7', 2200, ECDSA256.type, ECDSA256.base64);
    expect(await readFile(file, 'utf8')).toBe(
      `# mine\n${line('node1', RSA)}\nnode2 ${ED25519.type} ${ED25519.base64}\n[fd00::7]:2200 ${ECDSA256.type} ${ECDSA256.base64}\n`,
    );
    expect((await stat(file)).mode & 0o7777).toBe(0o644);
  });

  it('loses no line when several hosts are recorded at once', async () => {
    const file = path.join(dir, 'known_hosts');
    const hosts = Array.from({ length: 8 }, (_, index) => `node${index}`);
    await Promise.all(hosts.map((host) => recordHostKey(local, file, host, 22, ED25519.type, ED25519.base64)));
    const entries = await readKnownHosts(local, [file]);
    expect(entries.map((entry) => entry.hosts).sort()).toEqual(hosts);
  });

  it.each([
    ['a host with a space', 'node2 evil', ED25519.type, ED25519.base64],
    ['a host with a newline', 'node2\n* ssh-ed25519 AAAA', ED25519.type, ED25519.base64],
    ['a host that is a pattern', '*', ED25519.type, ED25519.base64],
    ['a key type with a space', 'node2', 'ssh-ed25519 x', ED25519.base64],
    ['a key that is not base64', 'node2', ED25519.type, 'AAAA\n* ssh-ed25519 AAAA'],
  ])('refuses to record %s', async (_what, host, type, key) => {
    const file = path.join(dir, 'known_hosts');
    await expect(recordHostKey(local, file, host, 22, type, key)).rejects.toThrow();
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
