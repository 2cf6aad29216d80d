import { fileRemedy, writeFile } from '../fix-steps.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

const WANT = 64000;
const RAISE_TO = 1048576;

export const limitsNofile: Check = {
  id: 'limits.nofile',
  async run({ facts, host, user }) {
    const limits = await facts.text('/proc/self/limits');
    const match = limits && /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    if (!match) return { status: 'warn', summary: 'cannot read the open-files limit from /proc/self/limits', remedy: 'ulimit -Hn shows it' };
    const hard = match[2] === 'unlimited' ? Infinity : Number(match[2]);
    // The limit of this rootlet process: checked for another account (--user), that account's sessions may differ.
    const whose = host.live && user !== (await host.user()) ? `this rootlet process (not ${user}'s own sessions)` : 'this session';
    const observed = `open-files limit of ${whose}: soft ${match[1]}, hard ${match[2]}`;
    if (hard >= WANT) return pass(observed);
    const file = `/etc/security/limits.d/60-rootlet-${user}.conf`;
    const content = `${user} soft nofile ${RAISE_TO}\n${user} hard nofile ${RAISE_TO}\n`;
    return {
      status: 'warn',
      summary: `${observed}: below ${WANT}, containerd and the kubelet in a node run out of file descriptors`,
      remedy: `as root: ${fileRemedy(file, content)}; then log in again`,
      fix: {
        key: 'limits.nofile',
        forUser: true,
        lines: writeFile(file, content, `Raise ${user}'s open-files limit for login sessions (user services get systemd's 524288 already).`),
        after: `log in again as ${user} for the new open-files limit`,
      },
    };
  },
};
