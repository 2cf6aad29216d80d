import { describe, expect, it } from 'vitest';
import { ExitCode, RootletError } from '../../src/errors.js';
import { shellQuote } from '../../src/host/shell-quote.js';
import { parseSshTarget, targetId } from '../../src/host/ssh-target.js';

describe('parseSshTarget', () => {
  it.each([
    ['node2', { user: undefined, host: 'node2', port: 22 }],
    ['alice@node2', { user: 'alice', host: 'node2', port: 22 }],
    ['alice@node2.lab.example.org:2222', { user: 'alice', host: 'node2.lab.example.org', port: 2222 }],
    ['bob@10.0.0.7', { user: 'bob', host: '10.0.0.7', port: 22 }],
    ['rootlet-remote1@127.0.0.1:2222', { user: 'rootlet-remote1', host: '127.0.0.1', port: 2222 }],
    ['carol@[fd00::7]:2200', { user: 'carol', host: 'fd00::7', port: 2200 }],
    ['[::1]', { user: undefined, host: '::1', port: 22 }],
    ['dave@fe80::1%eth0', { user: 'dave', host: 'fe80::1%eth0', port: 22 }],
    ['Build_Bot.2@gpu-07:65535', { user: 'Build_Bot.2', host: 'gpu-07', port: 65535 }],
    ['host$@ad-node', { user: 'host$', host: 'ad-node', port: 22 }],
    ['_svc@build_host', { user: '_svc', host: 'build_host', port: 22 }],
  ])('%s', (text, expected) => {
    expect(parseSshTarget(text)).toEqual(expected);
  });

  const hostile = [
    'a;b',
    'alice@a;b',
    '$(x)',
    'alice@$(reboot)',
    '`id`@node2',
    'alice@`id`',
    '-oProxyCommand=touch${IFS}/tmp/pwned',
    'alice@-oProxyCommand=sh',
    '-alice@node2',
    'a b',
    'alice@node 2',
    'alice@node2\nrm -rf ~',
    'alice\n@node2',
    "alice@node2'",
    'alice@node2|sh',
    'alice@node2&',
    'alice@node2>x',
    'alice@node2/../x',
    'alice@*',
    'alice@node2:22;id',
    'alice@[::1];id:22',
    'alice@[$(id)]:22',
    'alice@fe80::1%$(id)',
  ];
  it.each(hostile)('rejects %j with a one-line usage error naming the input and the form', (text) => {
    let caught: unknown;
    try {
      parseSshTarget(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RootletError);
    const error = caught as RootletError;
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain(JSON.stringify(text));
    expect(error.message).toContain('[user@]host[:port]');
    expect(error.message).not.toContain('\n');
    expect(error.hint).toBeDefined();
  });

  it.each([
    ['', 'no host name'],
    ['alice@', 'no host name'],
    ['@node2', 'no user name'],
    ['node2:0', 'between 1 and 65535'],
    ['node2:65536', 'between 1 and 65535'],
    ['node2:-1', 'not a number'],
    ['node2:ssh', 'not a number'],
    ['node2:', 'not a number'],
    ['[node2]:22', 'only an IPv6 address'],
    ['[::1', 'without its "]"'],
    ['[::1]x', 'after "]"'],
    ['300.1.1.1', 'not a valid IPv4 address'],
    ['10.1.2', 'not a valid IPv4 address'],
    ['fe80::zz', 'not a valid IPv6 address'],
    [`${'a'.repeat(64)}.example`, 'letters, digits'],
    [`${'abc.'.repeat(64)}example`, 'longer than 253'],
    ['node-.example', 'letters, digits'],
  ])('rejects %j: %s', (text, why) => {
    expect(() => parseSshTarget(text)).toThrow(why);
  });
});

describe('targetId', () => {
  it('leaves out port 22 and brackets IPv6 addresses', () => {
    expect(targetId({ user: 'alice', host: 'node2', port: 22 })).toBe('alice@node2');
    expect(targetId({ user: 'alice', host: 'node2', port: 2222 })).toBe('alice@node2:2222');
    expect(targetId({ user: 'carol', host: 'fd00::7', port: 22 })).toBe('carol@[fd00::7]');
    expect(targetId({ user: 'carol', host: 'fd00::7', port: 2200 })).toBe('carol@[fd00::7]:2200');
    expect(targetId({ user: undefined, host: '10.0.0.7', port: 22 })).toBe('10.0.0.7');
  });

  it.each(['alice@node2', 'alice@node2:2222', 'carol@[fd00::7]', 'carol@[fd00::7]:2200', 'dave@fe80::1%eth0', 'node2'])(
    '%s parses back to the same target and needs no shell quoting',
    (text) => {
      const target = parseSshTarget(text);
      const id = targetId(target);
      expect(parseSshTarget(id)).toEqual(target);
      // Safe in labels, file names and command lines as it is (brackets aside, which no shell expands here).
      expect(shellQuote(id.replace(/[[\]]/g, ''))).toBe(id.replace(/[[\]]/g, ''));
    },
  );
});
