/**
 * The multi-host test setup itself, with the system `ssh` client against the real test sshd (scripts/ssh/
 * provision-sshd.sh): the remote-host users answer, host keys are checked, passwords are refused, and each remote
 * user's rootless engine answers through a unix socket forwarded over SSH — what `rootlet join` builds on.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUser } from '../support/cli.js';
import { knownHostsLine, MISSING_SSH, sshFacts, sshOptions, type SshFacts, type SshRemote } from '../support/ssh.js';

const facts = sshFacts();
if (!facts) {
  // Loud and counted: scripts/test-summary.mjs fails CI on this skip.
  console.warn(MISSING_SSH);
  it.skip(`test sshd and remote hosts: ${MISSING_SSH}`, () => undefined);
} else {
  sshSetupSuite(facts);
}

function sshSetupSuite(facts: SshFacts): void {
  let dir: string;
  /** known_hosts with the test sshd's line only. */
  let trusted: string;
  /** An empty known_hosts: the host is unknown. */
  let unknown: string;
  /** known_hosts that pins another key for the same [host]:port: the host key "changed". */
  let changed: string;

  const ssh = (user: string, options: string[], command: string[], extra: string[] = []) =>
    execa('ssh', [...options, ...extra, `${user}@${facts.host}`, ...command], { reject: false, stdin: 'ignore', timeout: 20_000 });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-ssh-'));
    trusted = path.join(dir, 'known_hosts');
    unknown = path.join(dir, 'known_hosts.empty');
    changed = path.join(dir, 'known_hosts.changed');
    await writeFile(trusted, `${knownHostsLine(facts)}\n`);
    await writeFile(unknown, '');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'impostor', '-f', path.join(dir, 'impostor')]);
    const impostor = (await execa('cat', [path.join(dir, 'impostor.pub')])).stdout.split(' ').slice(0, 2).join(' ');
    await writeFile(changed, `[${facts.host}]:${facts.port} ${impostor}\n`);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs in as each test user with the client key; the session has no XDG_RUNTIME_DIR, /run/user/UID is owner-only', async () => {
    expect(facts.logins).toEqual(expect.arrayContaining(facts.remotes.map((remote) => remote.user)));
    for (const user of facts.logins) {
      const result = await ssh(user, sshOptions(facts, trusted), ['echo "$(id -un) ${XDG_RUNTIME_DIR-unset} $(stat -c %a:%U /run/user/$(id -u))"']);
      expect({ user, exitCode: result.exitCode, stderr: result.stderr }).toEqual({ user, exitCode: 0, stderr: '' });
      expect(result.stdout).toBe(`${user} unset 700:${user}`);
    }
  });

  it('answers `id -un` as rootlet-remote1', async () => {
    const result = await ssh(facts.remotes[0].user, sshOptions(facts, trusted), ['id', '-un']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(facts.remotes[0].user);
  });

  it('refuses a host whose key is not in known_hosts (StrictHostKeyChecking=yes)', async () => {
    const result = await ssh(facts.remotes[0].user, sshOptions(facts, unknown), ['id', '-un']);
    expect(result.exitCode).toBe(255);
    expect(result.stderr).toMatch(/No ED25519 host key is known for \[127\.0\.0\.1\]:2222/);
    expect(result.stderr).toMatch(/Host key verification failed/);
    expect(result.stdout).toBe('');
  });

  it('refuses a host whose key changed', async () => {
    const result = await ssh(facts.remotes[0].user, sshOptions(facts, changed), ['id', '-un']);
    expect(result.exitCode).toBe(255);
    expect(result.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(result.stderr).toMatch(/Host key verification failed/);
  });

  it('offers public-key authentication only: passwords and keyboard-interactive are refused', async () => {
    const result = await ssh(
      facts.remotes[0].user,
      sshOptions(facts, trusted),
      ['id', '-un'],
      ['-v', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive'],
    );
    expect(result.exitCode).toBe(255);
    expect(result.stderr).toMatch(/Authentications that can continue: publickey\r?\n/);
    expect(result.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(result.stdout).toBe('');
  });

  it('refuses a key that no user authorized', async () => {
    const result = await ssh(facts.remotes[0].user, sshOptions(facts, trusted, path.join(dir, 'impostor')), ['id', '-un']);
    expect(result.exitCode).toBe(255);
    expect(result.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it.each(facts.clients)('lets %s (a control host user) reach rootlet-remote1 with its own ~/.ssh/id_ed25519', async (client) => {
    const [, , uid, , , home] = (await execa('getent', ['passwd', client])).stdout.split(':');
    // No -i: the key ssh finds by itself, as `rootlet join` run by that user would. The shared known_hosts file is
    // only read (StrictHostKeyChecking=yes never writes).
    const options = sshOptions(facts, facts.knownHosts, null);
    const [command, args] = asUser(client, Number(uid), ['ssh', ...options, `${facts.remotes[0].user}@${facts.host}`, 'id', '-un'], { HOME: home! });
    const result = await execa(command, args, { reject: false, stdin: 'ignore', timeout: 20_000 });
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(result.stdout).toBe(facts.remotes[0].user);
  });

  describe.each(facts.remotes)('the engine of $user ($engine), forwarded over SSH', (remote: SshRemote) => {
    let forward: ResultPromise | undefined;

    afterAll(async () => {
      forward?.kill();
      await forward;
    });

    it('answers /_ping and is that user’s rootless engine', async () => {
      const local = path.join(dir, `${remote.user}.sock`);
      forward = execa(
        'ssh',
        [...sshOptions(facts, trusted), '-N', '-o', 'ExitOnForwardFailure=yes', '-L', `${local}:${remote.socket}`, `${remote.user}@${facts.host}`],
        { reject: false, stdin: 'ignore' },
      );
      const proc = forward;
      for (const deadline = Date.now() + 10_000; !existsSync(local); await sleep(50)) {
        if (proc.exitCode !== null) throw new Error(`ssh -L exited ${proc.exitCode}: ${String((await proc).stderr)}`);
        if (Date.now() > deadline) throw new Error(`ssh -L did not create ${local} within 10 s`);
      }
      const curl = (urlPath: string) => execa('curl', ['-sSf', '--max-time', '10', '--unix-socket', local, `http://engine${urlPath}`], { reject: false });

      const ping = await curl('/_ping');
      expect({ exitCode: ping.exitCode, stdout: ping.stdout, stderr: ping.stderr }).toEqual({ exitCode: 0, stdout: 'OK', stderr: '' });

      const home = `/home/${remote.user}/`;
      if (remote.engine === 'podman') {
        const info = JSON.parse((await curl('/v4.0.0/libpod/info')).stdout) as { host: { security: { rootless: boolean } }; store: { graphRoot: string } };
        expect(info.host.security.rootless).toBe(true);
        expect(info.store.graphRoot.startsWith(home)).toBe(true);
      } else {
        const info = JSON.parse((await curl('/info')).stdout) as { SecurityOptions: string[]; DockerRootDir: string };
        expect(info.SecurityOptions).toContain('name=rootless');
        expect(info.DockerRootDir.startsWith(home)).toBe(true);
      }

      // ssh ends on SIGTERM with "Killed by signal 15." and status 255.
      proc.kill();
      await proc;
      expect(proc.exitCode ?? proc.signalCode).not.toBeNull();
      forward = undefined;
    });
  });
}
