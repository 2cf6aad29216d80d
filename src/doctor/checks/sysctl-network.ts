import { sysctlFix, sysctlRemedy } from '../fix-steps.js';
import type { Check, Finding } from '../finding.js';

const FILE = '60-rootlet-network.conf';
/** The engine's network namespace copies these from the host; the kernel uses the stricter of "all" and the interface's own. */
const RP_FILTER = ['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.default.rp_filter'];

export const sysctlNetwork: Check = {
  id: 'sysctl.network',
  async run({ facts, ports }) {
    const rpFilter = await Promise.all(RP_FILTER.map(async (name) => ({ name, value: await facts.sysctl(name) })));
    const start = await facts.sysctl('net.ipv4.ip_unprivileged_port_start');
    const firstFree = start === undefined ? 1024 : Number(start);
    const low = ports.map(({ port }) => port).filter((port) => port < firstFree);
    const settings: Record<string, number> = {};
    const problems: string[] = [];
    let status: Finding['status'] = 'pass';
    const strict = rpFilter.filter(({ value }) => value === '1');
    if (strict.length > 0) {
      for (const { name } of strict) settings[name] = 2;
      problems.push(`${strict.map(({ name }) => name).join(' and ')} = 1 (strict) drops VXLAN traffic between nodes on different hosts`);
      status = 'warn';
    }
    if (low.length > 0) {
      settings['net.ipv4.ip_unprivileged_port_start'] = Math.min(...low);
      problems.push(`ports ${low.join(', ')} are below net.ipv4.ip_unprivileged_port_start = ${firstFree}, so a rootless engine cannot publish them`);
      status = 'fail';
    }
    const observed = `rp_filter all = ${rpFilter[0]!.value ?? 'unset'}, default = ${rpFilter[1]!.value ?? 'unset'}; unprivileged ports start at ${firstFree}`;
    if (problems.length === 0) return { status, summary: observed, remedy: '' };
    return {
      status,
      summary: problems.join('; '),
      remedy: sysctlRemedy(FILE, settings),
      fix: sysctlFix('sysctl.network', FILE, settings, 'Network settings for nodes in rootless containers.'),
    };
  },
};
