import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderFixScript } from '../../src/doctor/fix-script.js';
import { runDoctor, type HostReport } from '../../src/doctor/run.js';
import { LocalHost } from '../../src/host/local-host.js';
import { materialize, removeTree } from '../support/sysroot.js';
import { treeDigest } from '../support/tree-digest.js';

let root: string;
let report: HostReport;

beforeAll(async () => {
  root = await materialize('debian-bare');
  report = await runDoctor(new LocalHost({ root }), { user: 'alice' });
});
afterAll(async () => removeTree(root));

async function runScript(script: string, cwd?: string) {
  const file = path.join(tmpdir(), `rootlet-fix-${process.pid}-${Math.random().toString(36).slice(2)}.sh`);
  await writeFile(file, script);
  return execa('sh', [file], { reject: false, ...(cwd ? { cwd } : {}) });
}

describe('doctor --fix-script', () => {
  it('matches the golden script for a bare Debian server', async () => {
    await expect(renderFixScript(report)).toMatchFileSnapshot('../golden/fix-script.debian-bare.sh');
  });

  it('is valid POSIX shell for sh and dash', async () => {
    const script = renderFixScript(report);
    for (const shell of ['sh', 'dash']) {
      const result = await execa(shell, ['-n'], { input: script, reject: false });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
    }
  });

  it('lists what it does not fix, and nothing that passed', () => {
    const script = renderFixScript(report);
    expect(script).toContain('#   dev.fuse: as root: modprobe fuse');
    expect(script).toContain('#   userns.pods: only needed for hostUsers: false pods');
    for (const finding of report.findings.filter((f) => f.status === 'pass')) expect(script).not.toContain(`# ${finding.id} (`);
  });

  it('fixes the tree it is pointed at, touches nothing else, and changes nothing when run again', async () => {
    const script = renderFixScript(report, { sysroot: root });
    const liveFiles = ['/etc/modules-load.d/rootlet.conf', '/etc/sysctl.d/60-rootlet-network.conf', '/etc/udev/rules.d/60-rootlet-tun.rules'];
    const exists = async () =>
      Promise.all(
        liveFiles.map((file) =>
          stat(file).then(
            ({ mtimeMs }) => mtimeMs,
            () => 'absent',
          ),
        ),
      );
    const before = await exists();
    const first = await runScript(script);
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain(
      'rootlet: applied fixes for cgroup.delegation, kernel.modules, sysctl.network, sysctl.inotify, subid.range, subid.tools, limits.nofile, systemd.linger, dev.tun',
    );

    const after = new Map((await runDoctor(new LocalHost({ root }), { user: 'alice' })).findings.map((f) => [f.id, f]));
    for (const id of ['subid.range', 'subid.tools', 'systemd.linger', 'dev.tun']) expect(after.get(id)?.status, id).toBe('pass');
    expect(after.get('subid.range')!.summary).toContain('subuid 165536+65536');

    const file = (rel: string) => readFile(path.join(root, rel), 'utf8');
    expect(await file('etc/systemd/system/user@.service.d/delegate.conf')).toBe('[Service]\nDelegate=cpu cpuset io memory pids\n');
    expect(await file('etc/modules-load.d/rootlet.conf')).toBe('br_netfilter\nvxlan\nip_tables\niptable_nat\nip6_tables\nip6table_nat\noverlay\n');
    expect(await file('etc/sysctl.d/60-rootlet-network.conf')).toBe('net.ipv4.conf.default.rp_filter = 2\n');
    expect(await file('etc/sysctl.d/60-rootlet-inotify.conf')).toBe('fs.inotify.max_user_watches = 524288\nfs.inotify.max_user_instances = 512\n');
    expect(await file('etc/security/limits.d/60-rootlet-alice.conf')).toBe('alice soft nofile 1048576\nalice hard nofile 1048576\n');
    expect(await file('etc/udev/rules.d/60-rootlet-tun.rules')).toBe('KERNEL=="tun", MODE="0666"\n');
    // Only the tree changed: this machine's own files are as they were, and no live step ran.
    expect(await exists()).toEqual(before);

    const digest = await treeDigest(root);
    const second = await runScript(script);
    expect(second.exitCode).toBe(0);
    expect(await treeDigest(root)).toEqual(digest);
  });

  it('reports a live step that fails, runs the rest, and exits 1 at the end', async () => {
    const script = renderFixScript(report);
    const helper = script.slice(0, script.indexOf('\n}\n', script.indexOf('now() {')) + 3);
    const tail = script.slice(script.lastIndexOf('if [ -n "$not_applied" ]'));
    const result = await runScript(`${helper}now false\nnow true\nnow sh -c 'exit 3'\necho still running\n${tail}`);
    expect(result.stdout).toBe('still running');
    expect(result.stderr).toContain("rootlet fix script: 'false' failed (see above)");
    expect(result.stderr).toContain('not applied to the running system: false; sh -c exit 3');
    expect(result.exitCode).toBe(1);
  });

  it('writes into a sysroot whose path has spaces, quotes and $( ) without running any of it', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'rootlet-odd-'));
    const odd = path.join(parent, `sp ace $(touch INJECTED) \`touch INJECTED\` 'q"`);
    await cp(root, odd, { recursive: true });
    try {
      const oddReport = await runDoctor(new LocalHost({ root: odd }), { user: 'alice' });
      const result = await runScript(renderFixScript(oddReport, { sysroot: odd }), parent);
      expect(result.exitCode).toBe(0);
      expect(await readdir(parent)).toEqual([path.basename(odd)]);
      expect(await readFile(path.join(odd, 'etc/udev/rules.d/60-rootlet-tun.rules'), 'utf8')).toBe('KERNEL=="tun", MODE="0666"\n');
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('keeps whatever a summary holds inside its comment line', async () => {
    const hostile: HostReport = {
      host: 'local',
      user: 'alice',
      findings: [
        {
          id: 'sysctl.network',
          status: 'warn',
          summary: 'value\ntouch /tmp/rootlet-injected-by-summary\n#',
          remedy: 'x\ntouch /tmp/rootlet-injected-by-remedy',
          fix: { key: 'k', lines: ['true'] },
        },
        { id: 'dev.fuse', status: 'warn', summary: 's', remedy: 'y\rtouch /tmp/rootlet-injected-by-remedy' },
      ],
    };
    const result = await runScript(renderFixScript(hostile, { sysroot: root }));
    expect(result.exitCode).toBe(0);
    await expect(stat('/tmp/rootlet-injected-by-summary')).rejects.toThrow();
    await expect(stat('/tmp/rootlet-injected-by-remedy')).rejects.toThrow();
  });

  it('sets only system-wide things when the checked account is root', async () => {
    const asRoot = await runDoctor(new LocalHost({ root }), { user: 'root' });
    const script = renderFixScript(asRoot);
    expect(script).toContain('# kernel.modules (fail)');
    const commands = script.split('\n').filter((line) => !line.startsWith('#'));
    for (const perUser of ['usermod', 'enable-linger', 'limits.d']) expect(commands.filter((line) => line.includes(perUser))).toEqual([]);
    expect(script).toContain('#   subid.range: as root: usermod');
  });

  it('refuses to run as a regular user', async () => {
    const script = renderFixScript(report, { sysroot: root });
    const asNobody = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script], { reject: false });
    expect(asNobody.exitCode).toBe(1);
    expect(asNobody.stderr).toContain('run it as root');
  });

  it('says so when there is nothing to fix', async () => {
    const healthy = await materialize('fedora');
    try {
      const script = renderFixScript(await runDoctor(new LocalHost({ root: healthy }), { user: 'alice' }));
      expect(script).toContain("echo 'rootlet: nothing for root to fix here.'");
      expect(script).toContain('#   userns.pods: only needed for hostUsers: false pods');
    } finally {
      await removeTree(healthy);
    }
  });
});

describe('doctor --fix-script on other hosts', () => {
  async function fixAndRecheck(name: string, prepare: (root: string) => Promise<void> = async () => undefined, runs = 2) {
    const tree = await materialize(name);
    await prepare(tree);
    const before = await runDoctor(new LocalHost({ root: tree }), { user: 'alice' });
    const script = renderFixScript(before, { sysroot: tree });
    const digests: string[][] = [];
    for (let run = 0; run < runs; run++) {
      const result = await runScript(script);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      digests.push(await treeDigest(tree));
    }
    // Idempotent: every run after the first changes nothing.
    for (const digest of digests.slice(1)) expect(digest).toEqual(digests[0]);
    const after = new Map((await runDoctor(new LocalHost({ root: tree }), { user: 'alice' })).findings.map((f) => [f.id, f]));
    return { tree, after, cleanup: () => removeTree(tree) };
  }

  it('sets systemd.unified_cgroup_hierarchy=1 once, replacing another value, however often it runs', async () => {
    for (const cmdline of ['quiet systemd.unified_cgroup_hierarchy=0 splash', 'quiet splash']) {
      const { tree, cleanup } = await fixAndRecheck(
        'cgroup-hybrid',
        async (root) => {
          await mkdir(path.join(root, 'etc/default'), { recursive: true });
          await writeFile(path.join(root, 'etc/default/grub'), `GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="${cmdline}"\n`);
        },
        3,
      );
      const grub = await readFile(path.join(tree, 'etc/default/grub'), 'utf8');
      expect(grub.match(/systemd\.unified_cgroup_hierarchy=[^ "]*/g)).toEqual(['systemd.unified_cgroup_hierarchy=1']);
      expect(grub).toContain('quiet');
      await cleanup();
    }
  });

  it('writes an AppArmor profile that the restriction check then accepts', async () => {
    const { tree, after, cleanup } = await fixAndRecheck('ubuntu-apparmor');
    expect(after.get('sysctl.userns')).toMatchObject({ status: 'pass' });
    expect(await readFile(path.join(tree, 'etc/apparmor.d/rootlet-usr.bin.podman'), 'utf8')).toContain(
      'profile rootlet-usr.bin.podman /usr/bin/podman flags=(unconfined) {\n  userns,',
    );
    await cleanup();
  });

  it('gives sub-ids above every range to a user who has none', async () => {
    const { tree, after, cleanup } = await fixAndRecheck('no-subids');
    expect(after.get('subid.range')).toMatchObject({ status: 'pass' });
    expect(await readFile(path.join(tree, 'etc/subuid'), 'utf8')).toBe('bob:589824:65536\nalice:655360:65536\n');
    await cleanup();
  });
});
