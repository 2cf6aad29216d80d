import { writeFile, applyNow, sysctlFix, sysctlRemedy } from '../fix.js';
import type { Check, CheckContext, CheckResult } from '../finding.js';
import { pass } from '../finding.js';

/** Programs that create user namespaces for a rootless engine; each needs an AppArmor profile under Ubuntu's restriction. */
const ENGINE_BINARIES = ['/usr/bin/podman', '/usr/bin/rootlesskit', '/usr/local/bin/rootlesskit', '/usr/bin/slirp4netns', '/usr/bin/pasta'];

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
    if (Number(max) === 0) {
      const settings = { 'user.max_user_namespaces': 28633 };
      return {
        status: 'fail',
        summary: 'user.max_user_namespaces = 0: user namespaces are disabled',
        remedy: sysctlRemedy('60-rootlet-userns.conf', settings),
        fix: sysctlFix('sysctl.userns', '60-rootlet-userns.conf', settings, 'Allow user namespaces.'),
      };
    }
    const clone = await facts.sysctl('kernel.unprivileged_userns_clone');
    if (clone !== undefined && clone !== '1') {
      const settings = { 'kernel.unprivileged_userns_clone': 1 };
      return {
        status: 'fail',
        summary: `kernel.unprivileged_userns_clone = ${clone}: regular users cannot create user namespaces`,
        remedy: sysctlRemedy('60-rootlet-userns.conf', settings),
        fix: sysctlFix('sysctl.userns', '60-rootlet-userns.conf', settings, 'Let regular users create user namespaces.'),
      };
    }
    const restrict = await facts.sysctl('kernel.apparmor_restrict_unprivileged_userns');
    if (restrict !== undefined && restrict !== '0') return apparmorRestricted(ctx);
    return pass(`user namespaces allowed (max_user_namespaces = ${max}${restrict === undefined ? '' : ', apparmor_restrict_unprivileged_userns = 0'})`);
  },
};

/** Ubuntu >= 23.10: only programs with an AppArmor profile granting `userns` may create user namespaces. */
async function apparmorRestricted({ facts, host }: CheckContext): Promise<CheckResult> {
  const installed = (await Promise.all(ENGINE_BINARIES.map(async (binary) => ((await host.stat(binary)) ? binary : undefined)))).filter(
    (binary): binary is string => binary !== undefined,
  );
  const profiles = await profileTexts(host, facts);
  const uncovered = installed.filter((binary) => !profiles.some((text) => text.includes(binary)));
  const summary = 'kernel.apparmor_restrict_unprivileged_userns = 1';
  if (installed.length > 0 && uncovered.length === 0) {
    return pass(`${summary}, and AppArmor profiles allow user namespaces for ${installed.join(', ')}`);
  }
  const targets = uncovered.length > 0 ? uncovered : ['/usr/bin/podman', '/usr/bin/rootlesskit'];
  const lines = targets.flatMap((binary) => {
    const name = `rootlet-${binary.slice(1).replaceAll('/', '.')}`;
    const file = `/etc/apparmor.d/${name}`;
    return [
      ...writeFile(file, profile(name, binary), `Let ${binary} create user namespaces under the AppArmor restriction.`),
      ...applyNow(['apparmor_parser', '-r', file], 'Load the profile'),
    ];
  });
  return {
    status: 'fail',
    summary: `${summary} and no AppArmor profile allows user namespaces for ${targets.join(', ')}`,
    remedy: `as root, for each engine binary: an /etc/apparmor.d profile with "userns," for it, then apparmor_parser -r FILE (--fix-script writes them); or, less safe, ${sysctlRemedy('60-rootlet-userns.conf', { 'kernel.apparmor_restrict_unprivileged_userns': 0 })}`,
    fix: { key: 'sysctl.userns', lines },
  };
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

async function profileTexts(host: CheckContext['host'], facts: CheckContext['facts']): Promise<string[]> {
  let names: string[];
  try {
    names = await host.listDir('/etc/apparmor.d');
  } catch {
    return [];
  }
  const texts = await Promise.all(names.map((name) => facts.text(`/etc/apparmor.d/${name}`).catch(() => undefined)));
  return texts.filter((text): text is string => text !== undefined);
}
