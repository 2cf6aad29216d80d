import { applyNow, fileRemedy, writeFile } from '../fix-steps.js';
import type { Check, CheckResult, Finding } from '../finding.js';
import { pass } from '../finding.js';

const REQUIRED = ['cpu', 'memory', 'pids'];
const WANTED = ['cpuset', 'io'];
const DROP_IN = '/etc/systemd/system/user@.service.d/delegate.conf';
const DELEGATE = '[Service]\nDelegate=cpu cpuset io memory pids\n';

export const cgroupDelegation: Check = {
  id: 'cgroup.delegation',
  async run({ facts, user }) {
    const account = await facts.account(user);
    const remedy = `as root: ${fileRemedy(DROP_IN, DELEGATE)}; systemctl daemon-reload; then log out and back in as ${account.name}`;
    const fix = {
      key: 'cgroup.delegation',
      lines: [
        ...writeFile(DROP_IN, DELEGATE, 'Delegate every controller the kubelet needs to user services.'),
        ...applyNow(['systemctl', 'daemon-reload'], 'Make systemd read the drop-in'),
      ],
      after: `log out and back in as ${account.name} (or: loginctl terminate-user ${account.name}) so user@${account.uid}.service gets the delegated controllers`,
    };
    if ((await facts.cgroupLayout()) !== 'unified') {
      return { status: 'skip', summary: 'delegation needs the unified cgroup v2 hierarchy first (see cgroup.v2)', remedy, fix };
    }
    const file = `/sys/fs/cgroup/user.slice/user-${account.uid}.slice/user@${account.uid}.service/cgroup.controllers`;
    const text = await facts.text(file);
    if (text === undefined) {
      return {
        status: 'fail',
        summary: `no systemd user manager for uid ${account.uid}: ${file} does not exist`,
        remedy: `log in as ${account.name} with a login session (ssh or a console, not su), or as root: loginctl enable-linger ${account.name}`,
      };
    }
    const have = new Set(text.trim().split(/\s+/));
    const missing = REQUIRED.filter((name) => !have.has(name));
    const missingWanted = WANTED.filter((name) => !have.has(name));
    const found = `delegated to user@${account.uid}.service: ${[...have].sort().join(' ') || 'none'}`;
    const result = (status: Finding['status'], what: string): CheckResult => ({ status, summary: `${what} (${found})`, remedy, fix });
    if (missing.length > 0) return result('fail', `${[...missing, ...missingWanted].join(', ')} not delegated`);
    if (missingWanted.length > 0) return result('warn', `${missingWanted.join(', ')} not delegated (cpu, memory and pids are)`);
    return pass(found);
  },
};
