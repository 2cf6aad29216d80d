import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/finding.js';
import { runDoctor, type DoctorRequest } from '../../src/doctor/run.js';
import { LocalHost } from '../../src/host/local-host.js';
import { materialize, removeTree, SCENARIOS_DIR } from '../support/sysroot.js';

const trees: string[] = [];
afterAll(async () => Promise.all(trees.map(removeTree)));

async function tree(name: string): Promise<string> {
  const root = await materialize(name);
  trees.push(root);
  return root;
}

async function doctorAt(root: string, request: DoctorRequest = {}): Promise<Map<string, Finding>> {
  const report = await runDoctor(new LocalHost({ root }), { user: 'alice', ...request });
  return new Map(report.findings.map((finding) => [finding.id, finding]));
}

async function doctor(name: string, request: DoctorRequest = {}): Promise<Map<string, Finding>> {
  return doctorAt(await tree(name), request);
}

function statuses(findings: Map<string, Finding>): Record<string, string> {
  return Object.fromEntries([...findings].map(([id, finding]) => [id, finding.status]));
}

describe('a healthy Fedora host', () => {
  it('passes every check but the optional user-namespaced-pod ranges', async () => {
    const findings = await doctor('fedora');
    const notPassing = [...findings.values()].filter((finding) => finding.status !== 'pass');
    // The engine checks skip: a sysroot tree has no running engine.
    expect(notPassing.map((finding) => `${finding.id} ${finding.status}`)).toEqual([
      'userns.pods warn',
      'engine.reachable skip',
      'engine.rootless skip',
      'engine.version skip',
      'engine.network skip',
    ]);
    expect(findings.get('kernel.version')!.summary).toBe('kernel 6.8.9-300.fc40.x86_64');
    expect(findings.get('kernel.modules')!.summary).toBe('all 7 needed modules present (7 loaded, 0 built in)');
    expect(findings.get('cgroup.delegation')!.summary).toContain('cpu cpuset io memory pids');
    expect(findings.get('subid.range')!.summary).toContain('subuid 524288+65536');
    expect(findings.get('subid.range')!.summary).toContain('room for 0 user-namespaced pod ranges');
    expect(findings.get('subid.tools')!.summary).toContain('/usr/bin/newuidmap is setuid root');
    expect(findings.get('resources')!.summary).toBe('8 CPUs, 15.5 GiB memory');
    expect(findings.get('limits.nofile')!.summary).toContain('hard 524288');
    expect(findings.get('dev.tun')!.summary).toContain('mode 0666');
  });

  it('gives one-line summaries on every fixture host', async () => {
    for (const name of await readdir(SCENARIOS_DIR)) {
      for (const finding of (await doctor(name)).values()) expect(finding.summary, `${name} ${finding.id}`).not.toMatch(/[\r\n]/);
    }
    // Every fixture host in turn: ~1 s alone, past vitest's 5 s on a machine busy with the engine tests.
  }, 30_000);

  it('reports every check id of the design, once, in a fixed order', async () => {
    const findings = await doctor('fedora');
    expect([...findings.keys()]).toEqual([
      'user.nonroot',
      'kernel.version',
      'cgroup.v2',
      'cgroup.delegation',
      'kernel.modules',
      'sysctl.userns',
      'sysctl.network',
      'sysctl.inotify',
      'subid.range',
      'subid.tools',
      'limits.nofile',
      'systemd.linger',
      'dev.tun',
      'dev.fuse',
      'resources',
      'userns.pods',
      'engine.reachable',
      'engine.rootless',
      'engine.version',
      'engine.network',
      'ports.free',
    ]);
    for (const finding of findings.values()) expect(finding.summary.split('\n')).toHaveLength(1);
  });

  it('fails user.nonroot for root and names how to make a regular user', async () => {
    const finding = (await doctor('fedora', { user: 'root' })).get('user.nonroot')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toContain('uid 0');
    expect(finding.remedy).toContain('useradd -m');
  });

  it('asks for the openvswitch module only with Antrea', async () => {
    const antrea = (await doctor('fedora', { cni: 'antrea' })).get('kernel.modules')!;
    expect(antrea.status).toBe('fail');
    expect(antrea.summary).toBe('not loaded: openvswitch');
    expect(antrea.remedy).toContain('modprobe -a openvswitch');
  });

  it('fails sysctl.network when a published port is below ip_unprivileged_port_start', async () => {
    const finding = (
      await doctor('fedora', {
        ports: [
          { port: 6443, protocol: 'tcp', purpose: 'API server' },
          { port: 443, protocol: 'tcp', purpose: 'ingress' },
        ],
      })
    ).get('sysctl.network')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toContain('ports 443 are below net.ipv4.ip_unprivileged_port_start = 1024');
    expect(finding.remedy).toContain('net.ipv4.ip_unprivileged_port_start = 443');
  });
});

describe('cgroups', () => {
  it('fails cgroup.v2 on a v1-only host and skips delegation until that is fixed', async () => {
    const findings = await doctor('cgroup-v1');
    expect(findings.get('cgroup.v2')).toMatchObject({ status: 'fail', summary: 'cgroup v2 is not mounted: only cgroup v1 controllers at /sys/fs/cgroup' });
    expect(findings.get('cgroup.v2')!.remedy).toContain('systemd.unified_cgroup_hierarchy=1');
    expect(findings.get('cgroup.delegation')!.status).toBe('skip');
    expect(findings.get('cgroup.delegation')!.fix).toBeDefined();
  });

  it('names hybrid mode as its own failure', async () => {
    const finding = (await doctor('cgroup-hybrid')).get('cgroup.v2')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toMatch(/^cgroup v2 is not the unified hierarchy: hybrid mode/);
  });

  it('fails delegation naming every missing controller, not only the first', async () => {
    const none = (await doctor('no-delegation')).get('cgroup.delegation')!;
    expect(none.status).toBe('fail');
    expect(none.summary).toMatch(/^cpu, memory, pids, cpuset, io not delegated/);
    const partial = (await doctor('partial-delegation')).get('cgroup.delegation')!;
    expect(partial.status).toBe('fail');
    expect(partial.summary).toMatch(/^cpu, cpuset, io not delegated \(delegated to user@1000.service: memory pids\)$/);
    expect(partial.remedy).toContain('Delegate=cpu cpuset io memory pids');
  });

  it('warns when only io or cpuset is missing', async () => {
    const root = await tree('fedora');
    await writeFile(path.join(root, 'sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers'), 'cpu memory pids\n');
    const finding = (await doctorAt(root)).get('cgroup.delegation')!;
    expect(finding.status).toBe('warn');
    expect(finding.summary).toMatch(/^cpuset, io not delegated/);
  });

  it('fails delegation when there is no user manager, and linger is off', async () => {
    const findings = await doctor('no-user-manager');
    expect(findings.get('cgroup.delegation')).toMatchObject({ status: 'fail' });
    expect(findings.get('cgroup.delegation')!.summary).toContain('no systemd user manager for uid 1000');
    expect(findings.get('systemd.linger')).toMatchObject({ status: 'warn', remedy: 'as root: loginctl enable-linger alice' });
  });
});

describe('kernel', () => {
  it('tells modules that are not loaded from those the kernel was built without', async () => {
    const finding = (await doctor('missing-modules')).get('kernel.modules')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toBe(
      'not loaded: br_netfilter, vxlan, ip_tables, iptable_nat, ip6_tables; not built for kernel 6.8.9-300.fc40.x86_64: ip6table_nat (no CONFIG_IP6_NF_NAT)',
    );
    expect(finding.remedy).toContain('modprobe -a br_netfilter vxlan ip_tables iptable_nat ip6_tables');
    expect(finding.remedy).toContain('boot a kernel built with ip6table_nat');
  });

  it('accepts modules built in per modules.builtin', async () => {
    const finding = (await doctor('builtin-modules')).get('kernel.modules')!;
    expect(finding).toMatchObject({ status: 'pass', summary: 'all 7 needed modules present (0 loaded, 7 built in)' });
  });

  it('reads /proc/config.gz on a kernel without module support', async () => {
    const findings = await doctor('no-module-support');
    expect(findings.get('kernel.modules')).toMatchObject({ status: 'pass', summary: 'all 7 needed modules present (0 loaded, 7 built in)' });
    const antrea = (await doctor('no-module-support', { cni: 'antrea' })).get('kernel.modules')!;
    expect(antrea.status).toBe('fail');
    expect(antrea.summary).toContain('not built for kernel 6.8.9-300.fc40.x86_64: openvswitch (no CONFIG_OPENVSWITCH)');
  });

  it('fails a kernel below 5.11 and warns below 5.13', async () => {
    const old = await doctor('old-kernel');
    expect(old.get('kernel.version')).toMatchObject({ status: 'fail' });
    expect(old.get('kernel.version')!.summary).toContain('5.10.0-28-amd64 is older than 5.11');
    expect(old.get('userns.pods')!.summary).toContain('no idmap mounts on overlayfs (5.19)');
    const root = await tree('fedora');
    await writeFile(path.join(root, 'proc/sys/kernel/osrelease'), '5.12.19\n');
    expect((await doctorAt(root)).get('kernel.version')).toMatchObject({ status: 'warn' });
    await writeFile(path.join(root, 'proc/sys/kernel/osrelease'), '6.1.0-26-amd64\n');
    expect((await doctorAt(root)).get('userns.pods')!.summary).toContain('overlayfs but not tmpfs (6.3)');
  });

  it('fails when regular users may not create user namespaces, naming every reason in one sysctl file', async () => {
    const root = await tree('old-kernel');
    await writeFile(path.join(root, 'proc/sys/kernel/unprivileged_userns_clone'), '0\n');
    const finding = (await doctorAt(root)).get('sysctl.userns')!;
    expect(finding.status).toBe('fail');
    expect(finding.remedy).toContain('kernel.unprivileged_userns_clone = 1');
    await writeFile(path.join(root, 'proc/sys/user/max_user_namespaces'), '0\n');
    const both = (await doctorAt(root)).get('sysctl.userns')!;
    expect(both.summary).toBe(
      'user.max_user_namespaces = 0: user namespaces are disabled; kernel.unprivileged_userns_clone = 0: regular users cannot create user namespaces',
    );
    const script = both.fix!.lines.join('\n');
    expect(script.match(/cat > /g)).toHaveLength(1);
    expect(script).toContain('user.max_user_namespaces = 28633\nkernel.unprivileged_userns_clone = 1\n');
  });

  it('decides loadable from modules.dep and reads the legacy iptables symbols of kernels from 6.9', async () => {
    const root = await tree('missing-modules');
    const release = '6.8.9-300.fc40.x86_64';
    await writeFile(
      path.join(root, `lib/modules/${release}/modules.dep`),
      'kernel/net/ipv6/netfilter/ip6table_nat.ko.zst: kernel/net/ipv6/netfilter/ip6_tables.ko.zst\n',
    );
    await writeFile(path.join(root, `boot/config-${release}`), 'CONFIG_IP_NF_IPTABLES=y\nCONFIG_IP_NF_IPTABLES_LEGACY=m\nCONFIG_OVERLAY_FS=m\n');
    const finding = (await doctorAt(root)).get('kernel.modules')!;
    expect(finding.summary).toBe(
      'not loaded: ip_tables, ip6table_nat; not built for kernel 6.8.9-300.fc40.x86_64: br_netfilter, vxlan, iptable_nat, ip6_tables (no CONFIG_BRIDGE_NETFILTER, CONFIG_VXLAN, CONFIG_IP_NF_NAT, CONFIG_IP6_NF_IPTABLES)',
    );
    // Only modules this kernel has go into modules-load.d.
    expect(finding.fix!.lines.join('\n')).toContain("<<'ROOTLET_EOF'\nip_tables\nip6table_nat\noverlay\nROOTLET_EOF");
  });

  it('counts a module that appears only under /sys/module as built in', async () => {
    const root = await tree('fedora');
    await rm(path.join(root, 'proc/modules'));
    const finding = (await doctorAt(root)).get('kernel.modules')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toBe('not loaded: br_netfilter, vxlan, ip_tables, iptable_nat, ip6_tables, ip6table_nat');
  });
});

describe('Ubuntu AppArmor restriction', () => {
  it('fails without a profile for the installed engine and offers one', async () => {
    const finding = (await doctor('ubuntu-apparmor')).get('sysctl.userns')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toBe('kernel.apparmor_restrict_unprivileged_userns = 1 and no AppArmor profile allows user namespaces for /usr/bin/podman');
    expect(finding.fix!.lines.join('\n')).toContain('profile rootlet-usr.bin.podman /usr/bin/podman flags=(unconfined)');
    expect(finding.remedy).toContain('apparmor_parser -r');
  });

  it('does not take a mention of the path, or a profile without userns, for permission', async () => {
    const root = await tree('ubuntu-apparmor');
    await writeFile(
      path.join(root, 'etc/apparmor.d/podman-remote'),
      'profile podman-remote /usr/bin/podman-remote flags=(unconfined) {\n  userns,\n}\n# see also /usr/bin/podman\n',
    );
    await writeFile(path.join(root, 'etc/apparmor.d/podman'), 'profile podman /usr/bin/podman flags=(unconfined) {\n  network,\n}\n');
    expect((await doctorAt(root)).get('sysctl.userns')!.status).toBe('fail');
  });

  it('passes when a profile lets the engine create user namespaces', async () => {
    const finding = (await doctor('ubuntu-apparmor-profiled')).get('sysctl.userns')!;
    expect(finding).toMatchObject({ status: 'pass' });
    expect(finding.summary).toContain('AppArmor profiles allow user namespaces for /usr/bin/podman');
  });
});

describe('sub-ids', () => {
  it('fails without ranges and proposes ones above every existing range', async () => {
    const finding = (await doctor('no-subids')).get('subid.range')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toBe('alice has no range in /etc/subuid; alice has no range in /etc/subgid');
    expect(finding.remedy).toBe('as root: usermod --add-subuids 655360-720895 --add-subgids 655360-720895 -- alice');
  });

  it('fails overlapping ranges, naming the other account even when written as a uid', async () => {
    const finding = (await doctor('overlapping-subids')).get('subid.range')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toBe("/etc/subuid: alice's 524288+65536 (line 1) overlaps bob's 550000+65536 (line 2)");
    expect(finding.fix).toBeUndefined();
  });

  it('counts the pod ranges a large range leaves for user-namespaced pods', async () => {
    const root = await tree('fedora');
    const big = `alice:1000000:${65536 * 111}\n`;
    await writeFile(path.join(root, 'etc/subuid'), big);
    await writeFile(path.join(root, 'etc/subgid'), big);
    const findings = await doctorAt(root);
    expect(findings.get('subid.range')!.summary).toContain('room for 110 user-namespaced pod ranges');
    expect(findings.get('userns.pods')).toMatchObject({ status: 'pass' });
  });

  it('checks file capabilities with getcap when the tools are not setuid', async () => {
    const findings = await doctor('debian-bare');
    expect(findings.get('subid.tools')).toMatchObject({ status: 'fail' });
    expect(findings.get('subid.tools')!.summary).toBe('/usr/bin/newuidmap is neither setuid root nor has cap_setuid');
    const skipped = (await doctor('debian-bare', { noEngine: true })).get('subid.tools')!;
    expect(skipped.status).toBe('skip');
    expect(skipped.summary).toContain('file capabilities not checked (--no-engine)');
  });

  it('fails a range smaller than one node needs', async () => {
    const root = await tree('fedora');
    await writeFile(path.join(root, 'etc/subuid'), 'alice:524288:1000\n');
    const finding = (await doctorAt(root)).get('subid.range')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toBe('alice has 1000 ids in /etc/subuid, fewer than 65536');
    expect(finding.remedy).toBe('as root: usermod --add-subuids 525288-590823 -- alice');
  });

  it('names the package that has newuidmap on this distribution', async () => {
    const root = await tree('ubuntu-apparmor');
    await Promise.all(['newuidmap', 'newgidmap'].map((tool) => rm(path.join(root, 'usr/bin', tool))));
    // os-release values may be single-quoted (os-release(5)).
    await writeFile(path.join(root, 'etc/os-release'), "NAME='Ubuntu'\nID='ubuntu'\nID_LIKE='debian'\nPRETTY_NAME=\"Ubuntu \\\"Noble\\\" 24.04\"\n");
    const finding = (await doctorAt(root)).get('subid.tools')!;
    expect(finding.status).toBe('fail');
    expect(finding.remedy).toBe('as root: apt-get install -y uidmap');
  });
});

describe('a bare Debian server', () => {
  it('reports each problem with its observed value', async () => {
    const findings = await doctor('debian-bare');
    expect(statuses(findings)).toEqual({
      'user.nonroot': 'pass',
      'kernel.version': 'pass',
      'cgroup.v2': 'pass',
      'cgroup.delegation': 'fail',
      'kernel.modules': 'fail',
      'sysctl.userns': 'pass',
      'sysctl.network': 'warn',
      'sysctl.inotify': 'warn',
      'subid.range': 'fail',
      'subid.tools': 'fail',
      'limits.nofile': 'warn',
      'systemd.linger': 'warn',
      'dev.tun': 'fail',
      'dev.fuse': 'warn',
      resources: 'pass',
      'userns.pods': 'warn',
      'engine.reachable': 'skip',
      'engine.rootless': 'skip',
      'engine.version': 'skip',
      'engine.network': 'skip',
      'ports.free': 'pass',
    });
    expect(findings.get('dev.tun')!.summary).toContain('/dev/net/tun is mode 0600, owner 0:0: alice cannot open it');
    expect(findings.get('dev.fuse')!.summary).toContain('/dev/fuse does not exist');
    expect(findings.get('limits.nofile')!.summary).toContain('hard 4096');
    expect(findings.get('sysctl.network')!.summary).toContain('rp_filter = 1 (strict)');
    expect(findings.get('sysctl.inotify')!.summary).toContain('max_user_watches = 8192');
  });

  it('lets a member of the device group use /dev/net/tun', async () => {
    const root = await tree('debian-bare');
    await writeFile(path.join(root, 'etc/group'), 'root:x:0:\nnetdev:x:0:alice\n');
    await chmod(path.join(root, 'dev/net/tun'), 0o660);
    expect((await doctorAt(root)).get('dev.tun')!.status).toBe('pass');
  });
});

describe('failures of the checks themselves', () => {
  it('fails resources below kubeadm minimums', async () => {
    const root = await tree('fedora');
    await writeFile(path.join(root, 'sys/devices/system/cpu/online'), '0\n');
    await writeFile(path.join(root, 'proc/meminfo'), 'MemTotal:        1048576 kB\n');
    const finding = (await doctorAt(root)).get('resources')!;
    expect(finding).toMatchObject({
      status: 'fail',
      summary: '1 CPUs, 1.0 GiB memory: fewer than 2 CPUs and less than 1700 MiB memory, kubeadm refuses to set up a control plane',
    });
  });

  it('treats a strict rp_filter on "all" like one on "default"', async () => {
    const root = await tree('fedora');
    await mkdir(path.join(root, 'proc/sys/net/ipv4/conf/all'), { recursive: true });
    await writeFile(path.join(root, 'proc/sys/net/ipv4/conf/all/rp_filter'), '1\n');
    const finding = (await doctorAt(root)).get('sysctl.network')!;
    expect(finding.status).toBe('warn');
    expect(finding.remedy).toContain('net.ipv4.conf.all.rp_filter = 2');
    expect(finding.remedy).not.toContain('default.rp_filter');
  });

  it('turns a check that throws into a fail finding while the others still report', async () => {
    const root = await tree('fedora');
    await rm(path.join(root, 'proc/meminfo'));
    await mkdir(path.join(root, 'proc/meminfo'));
    const findings = await doctorAt(root);
    expect(findings.get('resources')).toMatchObject({ status: 'fail' });
    expect(findings.get('resources')!.summary).toMatch(/^the check itself failed: .*meminfo/);
    expect(findings.get('kernel.version')!.status).toBe('pass');
    expect(findings.size).toBe(21);
  });

  it('names a host file it cannot read instead of failing inside', async () => {
    const root = await tree('fedora');
    await rm(path.join(root, 'etc/passwd'));
    await expect(runDoctor(new LocalHost({ root }), { user: 'alice' })).rejects.toMatchObject({
      exitCode: 3,
      message: 'cannot read /etc/passwd: no such file or directory on host local',
    });
  });

  it('refuses a user that does not exist with a usage error', async () => {
    const root = await tree('fedora');
    await expect(runDoctor(new LocalHost({ root }), { user: 'mallory' })).rejects.toMatchObject({
      exitCode: 2,
      message: 'user mallory does not exist in /etc/passwd',
    });
  });
});
