import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { DoctorReport } from '../../src/doctor/report.js';
import { asUser, ROOTLET, rootlet } from '../support/cli.js';
import { engineSockets, MISSING_ENGINES } from '../support/engines.js';
import { materialize, removeTree } from '../support/sysroot.js';

const ANSI = new RegExp(String.fromCharCode(27) + '\\[');
const STACK = /^\s+at /m;

const repeat = (label: string, count: number): string[] => Array.from({ length: count }, () => label);

let healthy: string;
let bare: string;
beforeAll(async () => {
  [healthy, bare] = await Promise.all([materialize('fedora'), materialize('debian-bare')]);
});
afterAll(async () => Promise.all([removeTree(healthy), removeTree(bare)]));

describe('rootlet doctor on this machine', () => {
  it('reports the hybrid cgroup layout as a cgroup.v2 failure, in the JSON shape of the design', async () => {
    const result = await rootlet(['doctor', '--no-engine', '--json']);
    const document = DoctorReport.parse(JSON.parse(result.stdout));
    expect(document.hosts).toHaveLength(1);
    const [host] = document.hosts;
    expect(host!.host).toBe('local');
    const cgroup = host!.checks.find((check) => check.id === 'cgroup.v2')!;
    // ../shared/ENVIRONMENT.md: the project's machines mount cgroup v1 controllers with cgroup2 only at /sys/fs/cgroup/unified.
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    const hybrid = / \/sys\/fs\/cgroup\/unified cgroup2 /.test(mounts) && !/ \/sys\/fs\/cgroup cgroup2 /.test(mounts);
    expect(hybrid, 'this test expects the CI machine kind of ../shared/ENVIRONMENT.md').toBe(true);
    expect(cgroup.status).toBe('fail');
    expect(cgroup.summary).toContain('hybrid mode');
    expect(cgroup.remedy).toContain('systemd.unified_cgroup_hierarchy=1');
    expect(result.exitCode).toBe(3);
    expect(result.stdout).not.toMatch(ANSI);
  });

  it('prints a fix script that sh accepts', async () => {
    const result = await rootlet(['doctor', '--fix-script']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^#!\/bin\/sh\n/);
    expect(result.stdout).toContain('# cgroup.v2 (fail)');
    const syntax = await execa('sh', ['-n'], { input: result.stdout, reject: false });
    expect(syntax.exitCode).toBe(0);
  });
});

describe('rootlet doctor --sysroot', () => {
  it('exits 0 for a healthy tree', async () => {
    const result = await rootlet(['doctor', '--sysroot', healthy, '--user', 'alice', '--json']);
    expect(result.exitCode).toBe(0);
    const checks = DoctorReport.parse(JSON.parse(result.stdout)).hosts[0]!.checks;
    expect(checks.filter((check) => check.status === 'fail')).toEqual([]);
    expect(checks).toHaveLength(21);
  });

  it('groups the human report by status, failures first, without colour when not on a terminal', async () => {
    const result = await rootlet(['doctor', '--sysroot', bare, '--user', 'alice']);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).not.toMatch(ANSI);
    const labels = result.stdout
      .split('\n')
      .map((line) => /^(FAIL|WARN|ok {2}|skip) {2}/.exec(line)?.[1])
      .filter(Boolean);
    expect(labels).toEqual([...repeat('FAIL', 5), ...repeat('WARN', 6), ...repeat('ok  ', 6), ...repeat('skip', 4)]);
    expect(result.stdout).toContain('5 failed, 6 warnings, 6 passed, 4 skipped.');
    expect(result.stdout).toMatch(/^FAIL {2}dev\.tun {12}\/dev\/net\/tun is mode 0600/m);
    expect(result.stdout).toContain('fix: as root: chmod 666 /dev/net/tun');
    expect(result.stderr).toBe('');
  });
});

describe('bad input', () => {
  const cases: Array<{ name: string; args: string[]; exit: number; message: RegExp }> = [
    { name: 'an unknown flag', args: ['doctor', '--frobnicate'], exit: 2, message: /^error: unknown option '--frobnicate'/ },
    { name: 'an unknown command', args: ['launch'], exit: 2, message: /^error: unknown command 'launch'/ },
    {
      name: 'a sysroot that does not exist',
      args: ['doctor', '--sysroot', '/nonexistent/tree'],
      exit: 2,
      message: /^error: --sysroot \/nonexistent\/tree is not a directory\nhint: /,
    },
    {
      name: 'a user that does not exist',
      args: ['doctor', '--user', 'mallory'],
      exit: 2,
      message: /^error: user mallory does not exist in \/etc\/passwd\nhint: Pass an existing account/,
    },
    {
      name: 'a user name that is an option',
      args: ['doctor', '--user=-oProxyCommand=touch /tmp/pwned'],
      exit: 2,
      message: /^error: --user: must be a user name such as alice/,
    },
    { name: 'an unknown CNI', args: ['doctor', '--cni', 'calico'], exit: 2, message: /^error: option '--cni <name>' argument 'calico' is invalid/ },
    { name: 'a host that is no host name', args: ['doctor', 'a b@node2'], exit: 2, message: /^error: .*"a b@node2"/ },
    { name: 'a host together with --sysroot', args: ['doctor', 'node2', '--sysroot', '/'], exit: 2, message: /^error: --sysroot reads a tree on this machine/ },
  ];
  for (const { name, args, exit, message } of cases) {
    it(`rejects ${name} with one error line and exit ${exit}`, async () => {
      const result = await rootlet(args);
      expect(result.exitCode).toBe(exit);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(STACK);
      expect(result.stdout).toBe('');
    });
  }

  it('refuses --json with --fix-script: both choose what stdout is', async () => {
    const result = await rootlet(['doctor', '--json', '--fix-script']);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'usage', message: '--json and --fix-script both choose what stdout is' } });
  });

  it('gives a JSON error document on stdout with --json', async () => {
    const result = await rootlet(['doctor', '--json', '--sysroot', '/nonexistent/tree']);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { code: 'usage', message: '--sysroot /nonexistent/tree is not a directory', hint: expect.any(String) as unknown, exitCode: 2 },
    });
  });

  it('shows where a check failed with --verbose, and only then', async () => {
    const tree = await materialize('fedora');
    try {
      await rm(path.join(tree, 'proc/meminfo'));
      await mkdir(path.join(tree, 'proc/meminfo'));
      const args = ['doctor', '--sysroot', tree, '--user', 'alice'];
      const plain = await rootlet(args);
      expect(plain.stdout).toMatch(/^FAIL {2}resources +the check itself failed: \/proc\/meminfo: not a regular file/m);
      expect(plain.stderr).toBe('');
      const verbose = await rootlet(['--verbose', ...args]);
      expect(verbose.exitCode).toBe(3);
      expect(verbose.stderr).toMatch(/^resources: HostFileError: \/proc\/meminfo: not a regular file\n\s+at /);
    } finally {
      await removeTree(tree);
    }
  });

  it('shows the stack only with --verbose', async () => {
    const result = await rootlet(['doctor', '--verbose', '--sysroot', '/nonexistent/tree']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(STACK);
  });
});

describe('rootlet', () => {
  it("prints its version on the first line, then the pinned Kubernetes (the node image Dockerfile's base) and flannel", async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const base = /^FROM\s+(\S+)/m.exec(await readFile('templates/node-image/Dockerfile', 'utf8'))![1]!;
    const result = await rootlet(['--version']);
    expect(result).toMatchObject({ exitCode: 0, stdout: `${pkg.version}\nKubernetes v1.37.0 (node image from ${base})\nflannel v0.28.9\n` });
  });

  it('documents doctor with examples and exit codes', async () => {
    const result = await rootlet(['doctor', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('--fix-script');
    expect(result.stdout).toContain('Exit status: 0 nothing failed, 2 usage error, 3 a check failed, 5 a host could not be reached over SSH.');
    expect(result.stdout).toContain('rootlet doctor alice@node2 bob@node3');
  });
});

describe('rootlet doctor with real rootless engines', () => {
  const sockets = engineSockets();
  const users = [
    { kind: 'podman', user: 'rootlet-podman', socket: sockets.podman },
    { kind: 'docker', user: 'rootlet-docker', socket: sockets.docker },
  ];
  for (const { kind, user, socket } of users) {
    it.skipIf(!socket)(`finds the ${kind} of its user without being told where (${socket ? 'provisioned' : MISSING_ENGINES})`, async () => {
      const uid = Number((await execa('id', ['-u', user])).stdout);
      // As that user would run it: their own uid and runtime directory, nothing else set.
      const result = await execa(...asUser(user, uid, ['node', ROOTLET, 'doctor', '--json']), { reject: false });
      const checks = new Map(DoctorReport.parse(JSON.parse(result.stdout)).hosts[0]!.checks.map((check) => [check.id, check]));
      expect(checks.get('engine.reachable')).toMatchObject({ status: 'pass', summary: expect.stringContaining(socket!) as unknown });
      expect(checks.get('engine.rootless')!.status).toBe('pass');
      expect(checks.get('engine.version')!.status).toBe('pass');
      expect(checks.get('engine.network')!.status).toBe('pass');
    });
  }

  it.skipIf(!sockets.podman)('says permission denied for a socket of another user', async () => {
    const result = await execa(
      'setpriv',
      ['--reuid', 'rootlet-docker', '--regid', 'rootlet-docker', '--init-groups', 'node', ROOTLET, 'doctor', '--json', '--engine-socket', sockets.podman ?? ''],
      { reject: false },
    );
    const checks = DoctorReport.parse(JSON.parse(result.stdout)).hosts[0]!.checks;
    expect(checks.find((check) => check.id === 'engine.reachable')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining(`${sockets.podman}: permission denied (the socket belongs to another user)`) as unknown,
    });
  });
});
