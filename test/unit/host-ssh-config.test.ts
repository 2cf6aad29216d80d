import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../src/host/local-host.js';
import { resolveSshHost } from '../../src/host/ssh-config.js';

/** KEYS is replaced by a directory holding lab_key and gpu-192.168.1.50-alice; missing_key does not exist. */
const CONFIG = `
Host lab-*
  User alice
  IdentityFile KEYS/lab_key
  IdentityFile KEYS/missing_key

host lab-gpu
  hostname 192.168.1.50
  PORT 2200
  IdentityFile KEYS/gpu-%h-%u

Host jump
  HostName node9
  ProxyJump bastion

Host direct
  HostName node10
  ProxyJump none

Host tokens
  HostName %l.example.com

Host *
  User fallback
`;

describe('resolveSshHost: HOST arguments through an ssh config, as ssh reads it', () => {
  const local = new LocalHost();
  let configFile: string;
  let keys: string;
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-ssh-config-'));
    keys = dir;
    configFile = path.join(dir, 'config');
    await writeFile(configFile, CONFIG.replaceAll('KEYS', dir));
    for (const key of ['lab_key', 'gpu-192.168.1.50-alice']) await writeFile(path.join(dir, key), 'not really a key\n');
  });

  it('applies the first match of each option, keywords in any case: HostName, User, Port, every IdentityFile that exists', async () => {
    const resolved = await resolveSshHost(local, 'lab-gpu', { configFile, identityFiles: ['/given/key', '~/.ssh/given'] });
    expect(resolved.target).toEqual({ user: 'alice', host: '192.168.1.50', port: 2200 });
    // Given keys first (~ expanded); the config's missing_key is skipped, as ssh skips it.
    expect(resolved.identityFiles).toEqual([
      '/given/key',
      path.join(os.homedir(), '.ssh/given'),
      path.join(keys, 'lab_key'),
      path.join(keys, 'gpu-192.168.1.50-alice'),
    ]);
  });

  it('follows ProxyJump none (no jump), refuses Include and Match exec, and names a config it cannot parse', async () => {
    expect((await resolveSshHost(local, 'direct', { configFile })).target.host).toBe('node10');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-ssh-config-'));
    const cases: Array<[string, string]> = [
      ['Include ~/.ssh/config.d/*\n', 'uses Include'],
      ['Match exec "test -f /x"\n  User bob\n', 'uses Match exec'],
      ['Host "unclosed\n', 'cannot read the ssh config'],
    ];
    for (const [text, message] of cases) {
      const file = path.join(dir, `config-${cases.findIndex(([other]) => other === text)}`);
      await writeFile(file, text);
      const error = await resolveSshHost(local, 'node2', { configFile: file }).catch((caught: unknown) => caught);
      expect(error, text).toMatchObject({ exitCode: 2, message: expect.stringContaining(message) as unknown });
    }
  });

  it('lets the argument win over the file', async () => {
    const resolved = await resolveSshHost(local, 'bob@lab-gpu:22', { configFile });
    expect(resolved.target).toEqual({ user: 'bob', host: '192.168.1.50', port: 22 });
  });

  it('passes a host without an entry through, with Host * applied', async () => {
    const resolved = await resolveSshHost(local, 'node7:2222', { configFile });
    expect(resolved).toEqual({ target: { user: 'fallback', host: 'node7', port: 2222 }, identityFiles: [] });
  });

  it('refuses what it would not follow (ProxyJump) and tokens it does not expand, as usage errors', async () => {
    const jump = await resolveSshHost(local, 'jump', { configFile }).catch((error: unknown) => error);
    expect(jump).toMatchObject({ exitCode: 2, message: expect.stringContaining('ProxyJump') as unknown });
    const token = await resolveSshHost(local, 'tokens', { configFile }).catch((error: unknown) => error);
    expect(token).toMatchObject({ exitCode: 2, message: expect.stringContaining('%l') as unknown });
  });

  it('checks the resolved host as strictly as an argument: a config cannot smuggle in an ssh option', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-ssh-config-'));
    const hostile = path.join(dir, 'config');
    await writeFile(hostile, 'Host evil\n  HostName -oProxyCommand=touch\n');
    const error = await resolveSshHost(local, 'evil', { configFile: hostile }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ exitCode: 2, message: expect.stringContaining('invalid SSH host') as unknown });
  });

  it("fills in this account's name when neither the argument nor the config names a user, as ssh does", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-ssh-config-'));
    const plain = path.join(dir, 'config');
    await writeFile(plain, 'Host other\n  User nobody\n');
    expect((await resolveSshHost(local, 'node4', { configFile: plain })).target).toEqual({ user: os.userInfo().username, host: 'node4', port: 22 });
  });

  it('refuses a --ssh-config that does not exist', async () => {
    const missing = await resolveSshHost(local, 'node2', { configFile: '/nonexistent/config' }).catch((error: unknown) => error);
    expect(missing).toMatchObject({ exitCode: 2, message: expect.stringContaining('does not exist') as unknown });
  });
});
