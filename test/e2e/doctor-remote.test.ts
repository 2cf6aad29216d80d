/**
 * `rootlet doctor USER@HOST` over the real test sshd, run by the built CLI as a local user with its own HOME (no
 * known_hosts yet): host keys are checked, the remote host's files are read over SSH, and its rootless engine is
 * reached through a forwarded unix socket.
 */
import { copyFile, chown, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { DoctorReport } from '../../src/doctor/report.js';
import { asUser, ROOTLET } from '../support/cli.js';
import { knownHostsLine, MISSING_SSH, sshFacts } from '../support/ssh.js';

const facts = sshFacts();
const CLIENT = 'rootlet-podman';

if (!facts) {
  console.warn(MISSING_SSH);
  it.skip(`rootlet doctor over SSH: ${MISSING_SSH}`, () => undefined);
} else {
  describe('rootlet doctor on other hosts over SSH', () => {
    const [remote1, remote2] = facts.remotes;
    const target = (user: string) => `${user}@${facts.host}:${facts.port}`;
    let home: string;
    let uid: number;

    const rootlet = async (args: string[]) => {
      const result = await execa(...asUser(CLIENT, uid, ['node', ROOTLET, ...args], { HOME: home }), { reject: false });
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    };

    beforeAll(async () => {
      uid = Number((await execa('id', ['-u', CLIENT])).stdout);
      home = await mkdtemp(path.join(os.tmpdir(), 'rootlet-e2e-ssh-'));
      await mkdir(path.join(home, '.ssh'), { mode: 0o700 });
      await copyFile(facts.key, path.join(home, '.ssh', 'id_ed25519'));
      for (const file of [home, path.join(home, '.ssh'), path.join(home, '.ssh', 'id_ed25519')]) await chown(file, uid, uid);
    });

    it('refuses an unknown host key with its SHA256 fingerprint (exit 5), and checks nothing', async () => {
      const result = await rootlet(['doctor', target(remote1.user)]);
      expect(result.exitCode, result.stderr).toBe(5);
      const serverKey = knownHostsLine(facts).split(' ').slice(1).join(' ');
      const keyFile = path.join(home, 'server.pub');
      await writeFile(keyFile, `${serverKey}\n`);
      const fingerprint = (await execa('ssh-keygen', ['-lf', keyFile])).stdout.split(' ')[1]!;
      expect(result.stdout).toContain(`is not known: ssh-ed25519 ${fingerprint}`);
      expect(result.stdout).toContain('--accept-new-host-keys');
    });

    it('with --accept-new-host-keys records the key and runs every check there, the engine through SSH', async () => {
      const result = await rootlet(['doctor', target(remote1.user), '--accept-new-host-keys', '--json']);
      // This machine's hybrid cgroups fail cgroup.v2 on every "host".
      expect(result.exitCode, result.stderr).toBe(3);
      const [host] = DoctorReport.parse(JSON.parse(result.stdout)).hosts;
      expect(host).toMatchObject({ host: target(remote1.user), user: remote1.user });
      const checks = new Map(host!.checks.map((check) => [check.id, check]));
      expect(checks.get('user.nonroot')!.summary).toContain(remote1.user);
      expect(checks.get('engine.reachable')).toMatchObject({ status: 'pass', summary: expect.stringContaining(remote1.socket) as unknown });
      expect(checks.get('engine.rootless')!.status).toBe('pass');
      expect(await readFile(path.join(home, '.ssh', 'known_hosts'), 'utf8')).toBe(`${knownHostsLine(facts)}\n`);
    });

    it('checks several hosts at once; an unreachable one is reported (exit 5) and the others still are', async () => {
      const unreachable = `${remote2.user}@127.0.0.1:1`;
      const result = await rootlet(['doctor', target(remote1.user), target(remote2.user), unreachable, '--accept-new-host-keys', '--json']);
      expect(result.exitCode, result.stderr).toBe(5);
      const hosts = DoctorReport.parse(JSON.parse(result.stdout)).hosts;
      expect(hosts.map((host) => host.host)).toEqual([target(remote1.user), target(remote2.user), unreachable]);
      expect(hosts[1]!.checks.find((check) => check.id === 'engine.reachable')).toMatchObject({
        status: 'pass',
        summary: expect.stringContaining(remote2.socket) as unknown,
      });
      expect(hosts[2]).toMatchObject({ checks: [], error: { exitCode: 5 } });
    });

    it('refuses a changed host key even with --accept-new-host-keys', async () => {
      const other = path.join(home, 'other');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const otherKey = (await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
      const knownHosts = path.join(home, '.ssh', 'known_hosts');
      await writeFile(knownHosts, `[${facts.host}]:${facts.port} ${otherKey}\n`);
      await chown(knownHosts, uid, uid);
      const result = await rootlet(['doctor', target(remote1.user), '--accept-new-host-keys']);
      expect(result.exitCode, result.stdout).toBe(5);
      expect(result.stdout).toMatch(/host key of 127\.0\.0\.1:2222 has changed/i);
      // Put the real key back for whatever runs next.
      await writeFile(knownHosts, `${knownHostsLine(facts)}\n`);
    });

    it('rejects a host with shell metacharacters before connecting anywhere (exit 2)', async () => {
      const result = await rootlet(['doctor', 'a;touch /tmp/pwned@127.0.0.1']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/^error: .*a;touch/m);
    });
  });
}
