import { applyNow, sysctlFix, sysctlRemedy, writeFile, type Fix } from '../fix-steps.js';
import type { Check, CheckContext } from '../finding.js';
import { pass } from '../finding.js';

/** Programs that create user namespaces for a rootless engine; each needs an AppArmor profile under Ubuntu's restriction. */
const ENGINE_BINARIES = ['/usr/bin/podman', '/usr/bin/rootlesskit', '/usr/local/bin/rootlesskit', '/usr/bin/slirp4netns', '/usr/bin/pasta'];
const FILE = '60-rootlet-userns.conf';

export const sysctlUserns: Check = {
  id: 'sysctl.userns',
  async run(ctx) {
    const { facts } = ctx;
    const max = await facts.sysctl('user.max_user_namespaces');
    if (max === undefined) {
      return {
        status: 'fail',
        summary: 'the kernel has no user namespaces (no /proc/sys/user/max_user_namespaces)',
        remedy: 'boot a kernel built with CONFIG_USER_NS=y',
      };
    }
    const problems: string[] = [];
    const settings: Record<string, number> = {};
    if (!(Number(max) > 0)) {
      problems.push(`user.max_user_namespaces = ${max}: user namespaces are disabled`);
      settings['user.max_user_namespaces'] = 28633;
    }
    const clone = await facts.sysctl('kernel.unprivileged_userns_clone');
    if (clone !== undefined && clone !== '1') {
      problems.push(`kernel.unprivileged_userns_clone = ${clone}: regular users cannot create user namespaces`);
      settings['kernel.unprivileged_userns_clone'] = 1;
    }
    const restrict = await facts.sysctl('kernel.apparmor_restrict_unprivileged_userns');
    const apparmor = restrict !== undefined && restrict !== '0' ? await apparmorProfiles(ctx) : undefined;
    if (apparmor?.problem) problems.push(apparmor.problem);

    const observed = `max_user_namespaces = ${max}${restrict === undefined ? '' : `, apparmor_restrict_unprivileged_userns = ${restrict}`}`;
    if (problems.length === 0) return pass(`user namespaces allowed (${observed}${apparmor?.note ?? ''})`);
    const hasSettings = Object.keys(settings).length > 0;
    const lines = [
      ...(hasSettings ? sysctlFix('sysctl.userns', FILE, settings, 'Let regular users create user namespaces.').lines : []),
      ...(apparmor?.fix ?? []),
    ];
    const remedies = [hasSettings ? sysctlRemedy(FILE, settings) : '', apparmor?.remedy ?? ''].filter(Boolean);
    const fix: Fix = { key: 'sysctl.userns', lines };
    return { status: 'fail', summary: problems.join('; '), remedy: remedies.join('; '), fix };
  },
};

interface AppArmorVerdict {
  problem?: string;
  remedy?: string;
  fix?: string[];
  note?: string;
}

/** Ubuntu >= 23.10: only programs whose AppArmor profile has a `userns,` rule may create user namespaces. */
async function apparmorProfiles({ facts, host }: CheckContext): Promise<AppArmorVerdict> {
  const installed = (await Promise.all(ENGINE_BINARIES.map(async (binary) => ((await host.stat(binary)) ? binary : undefined)))).filter(
    (binary): binary is string => binary !== undefined,
  );
  const allowed = await binariesWithUserns(host, facts);
  const uncovered = installed.filter((binary) => !allowed.has(binary));
  if (installed.length > 0 && uncovered.length === 0) return { note: `; AppArmor profiles allow user namespaces for ${installed.join(', ')}` };
  const targets = uncovered.length > 0 ? uncovered : ['/usr/bin/podman', '/usr/bin/rootlesskit'];
  const fix = targets.flatMap((binary) => {
    const name = `rootlet-${binary.slice(1).replaceAll('/', '.')}`;
    const file = `/etc/apparmor.d/${name}`;
    return [
      ...writeFile(file, profile(name, binary), `Let ${binary} create user namespaces under the AppArmor restriction.`),
      ...applyNow(['apparmor_parser', '-r', file], 'Load the profile'),
    ];
  });
  return {
    problem: `kernel.apparmor_restrict_unprivileged_userns = 1 and no AppArmor profile allows user namespaces for ${targets.join(', ')}`,
    remedy: `as root, for each engine binary: an /etc/apparmor.d profile with "userns," for it, then apparmor_parser -r FILE (--fix-script writes them); or, less safe, ${sysctlRemedy(FILE, { 'kernel.apparmor_restrict_unprivileged_userns': 0 })}`,
    fix,
  };
}

const ATTACHMENT = /^\s*(?:profile\s+\S+\s+)?(\/[^\s{]+)\s*(?:flags=\([^)]*\)\s*)?\{/gm;

/** Binaries attached to a profile that grants `userns,` (an exact attachment path, not a mention). */
async function binariesWithUserns(host: CheckContext['host'], facts: CheckContext['facts']): Promise<Set<string>> {
  const names = await host.listDir('/etc/apparmor.d').catch(() => [] as string[]);
  const texts = await Promise.all(names.map((name) => facts.text(`/etc/apparmor.d/${name}`).catch(() => undefined)));
  const allowed = new Set<string>();
  for (const text of texts) {
    if (text === undefined || !/^\s*userns,/m.test(text)) continue;
    for (const match of text.matchAll(ATTACHMENT)) allowed.add(match[1]!);
  }
  return allowed;
}

function profile(name: string, binary: string): string {
  return [
    'abi <abi/4.0>,',
    'include <tunables/global>',
    '',
    `profile ${name} ${binary} flags=(unconfined) {`,
    '  userns,',
    '',
    `  include if exists <local/${name}>`,
    '}',
    '',
  ].join('\n');
}
