import { sysctlFix, sysctlRemedy } from '../fix.js';
import type { Check, Finding } from '../finding.js';

export const sysctlNetwork: Check = {
  id: 'sysctl.network',
  async run({ facts, ports }) {
    const rpFilter = await facts.sysctl('net.ipv4.conf.default.rp_filter');
    const start = await facts.sysctl('net.ipv4.ip_unprivileged_port_start');
    const firstFree = start === undefined ? 1024 : Number(start);
    const low = ports.filter((port) => port < firstFree);
    const settings: Record<string, number> = {};
    const problems: string[] = [];
    let status: Finding['status'] = 'pass';
    if (rpFilter === '1') {
      // The engine's network namespace copies the host's defaults; strict reverse-path filtering drops VXLAN between hosts.
      settings['net.ipv4.conf.default.rp_filter'] = 2;
      problems.push('net.ipv4.conf.default.rp_filter = 1 (strict) drops VXLAN traffic between nodes on different hosts');
      status = 'warn';
    }
    if (low.length > 0) {
      settings['net.ipv4.ip_unprivileged_port_start'] = Math.min(...low);
      problems.push(`ports ${low.join(', ')} are below net.ipv4.ip_unprivileged_port_start = ${firstFree}, so a rootless engine cannot publish them`);
      status = 'fail';
    }
    const observed = `rp_filter = ${rpFilter ?? 'unset'}, unprivileged ports start at ${firstFree}`;
    if (problems.length === 0) return { status, summary: observed, remedy: '' };
    return {
      status,
      summary: problems.join('; '),
      remedy: sysctlRemedy('60-rootlet-network.conf', settings),
      fix: sysctlFix('sysctl.network', '60-rootlet-network.conf', settings, 'Network settings for nodes in rootless containers.'),
    };
  },
};
