import { shellLine } from '../../host/shell-quote.js';
import { applyNow } from '../fix-steps.js';
import type { Check, CheckContext, CheckResult } from '../finding.js';
import { pass } from '../finding.js';
import { COMMAND_TIMEOUT_MS } from '../facts.js';
import { installCommand } from '../packages.js';

const DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/usr/local/bin'];
const TOOLS = { newuidmap: 'cap_setuid', newgidmap: 'cap_setgid' } as const;
const PACKAGES = { apt: 'uidmap', dnf: 'shadow-utils', zypper: 'shadow', pacman: 'shadow', apk: 'shadow-uidmap' };

type Verdict = { tool: string; path?: string; ok: boolean | 'unknown' | 'skipped'; how: string };

export const subidTools: Check = {
  id: 'subid.tools',
  async run(ctx): Promise<CheckResult> {
    const verdicts = await Promise.all(Object.entries(TOOLS).map(([tool, cap]) => inspect(ctx, tool, cap)));
    const missing = verdicts.filter((v) => v.path === undefined).map((v) => v.tool);
    if (missing.length > 0) {
      const install = installCommand(await ctx.facts.packageManager(), PACKAGES);
      return {
        status: 'fail',
        summary: `${missing.join(' and ')} not found in ${DIRS.join(', ')}: the engine cannot map sub-ids`,
        remedy: install
          ? `as root: ${shellLine(install)}`
          : `install your distribution's package with newuidmap/newgidmap (${Object.values(PACKAGES).join(' / ')})`,
        ...(install ? { fix: { key: 'subid.tools', lines: applyNow(install, 'Install newuidmap and newgidmap') } } : {}),
      };
    }
    const bad = verdicts.filter((v) => v.ok === false);
    if (bad.length > 0) {
      return {
        status: 'fail',
        summary: bad.map((v) => `${v.path} ${v.how}`).join('; '),
        remedy: `as root: ${bad.map((v) => `chmod u+s ${v.path}`).join('; ')}`,
        fix: {
          key: 'subid.tools',
          lines: bad.flatMap((v) => [`# Let ${v.tool} write id maps for regular users.`, `chown root "$ROOT"${v.path!} && chmod u+s "$ROOT"${v.path!}`]),
        },
      };
    }
    const summary = verdicts.map((v) => `${v.path} ${v.how}`).join(', ');
    const remedy = 'getcap /usr/bin/newuidmap /usr/bin/newgidmap should show cap_setuid and cap_setgid';
    if (verdicts.some((v) => v.ok === 'skipped')) return { status: 'skip', summary, remedy };
    if (verdicts.some((v) => v.ok === 'unknown')) {
      const install = installCommand(await ctx.facts.packageManager(), {
        apt: 'libcap2-bin',
        dnf: 'libcap',
        zypper: 'libcap-progs',
        pacman: 'libcap',
        apk: 'libcap-utils',
      });
      return { status: 'warn', summary, remedy: install ? `${remedy}; install getcap as root: ${shellLine(install)}` : remedy };
    }
    return pass(summary);
  },
};

async function inspect({ host, noEngine }: CheckContext, tool: string, cap: string): Promise<Verdict> {
  for (const dir of DIRS) {
    const path = `${dir}/${tool}`;
    const info = await host.stat(path);
    if (!info || info.type !== 'file') continue;
    if (info.uid === 0 && (info.mode & 0o4000) !== 0) return { tool, path, ok: true, how: 'is setuid root' };
    // Not setuid: it may carry file capabilities instead (Fedora, Arch), which only getcap can read.
    if (noEngine) return { tool, path, ok: 'skipped', how: 'is not setuid root; file capabilities not checked (--no-engine)' };
    const result = await host.run(['getcap', host.commandPath(path)], { timeoutMs: COMMAND_TIMEOUT_MS });
    if (result.exitCode === 127) return { tool, path, ok: 'unknown', how: 'is not setuid root and getcap is not installed to check its capabilities' };
    if (result.stdout.includes(cap)) return { tool, path, ok: true, how: `has ${cap}` };
    return { tool, path, ok: false, how: `is neither setuid root nor has ${cap}` };
  }
  return { tool, ok: false, how: 'not found' };
}
