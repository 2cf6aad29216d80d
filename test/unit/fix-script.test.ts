import { readFile, stat, writeFile } from 'node:fs/promises';
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

async function runScript(script: string, env: Record<string, string> = {}) {
  const file = path.join(tmpdir(), `rootlet-fix-${process.pid}-${Math.random().toString(36).slice(2)}.sh`);
  await writeFile(file, script);
  return execa('sh', [file], { reject: false, env });
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

  it('has a step for every finding root can fix and lists the rest', () => {
    const script = renderFixScript(report);
    const open = report.findings.filter((finding) => finding.status !== 'pass');
    for (const finding of open) {
      if (finding.fix) expect(script).toContain(`# ${finding.id} (${finding.status}): ${finding.summary}`);
      else expect(script).toContain(`#   ${finding.id}: ${finding.remedy}`);
    }
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
    expect(await file('etc/security/limits.d/60-rootlet.conf')).toBe('alice soft nofile 1048576\nalice hard nofile 1048576\n');
    expect(await file('etc/udev/rules.d/60-rootlet-tun.rules')).toBe('KERNEL=="tun", MODE="0666"\n');
    // Only the tree changed: this machine's own files are as they were, and no live step ran.
    expect(await exists()).toEqual(before);
    expect(first.stderr).not.toContain('failed');

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
