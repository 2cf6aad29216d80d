import type { Check } from '../finding.js';
import { pass } from '../finding.js';

/** kubeadm's own preflight minimums for a control-plane node. */
const MIN_CPUS = 2;
const MIN_MIB = 1700;

export const resources: Check = {
  id: 'resources',
  async run({ facts }) {
    const cpus = countCpus((await facts.text('/sys/devices/system/cpu/online')) ?? '');
    const memMatch = /^MemTotal:\s+(\d+) kB/m.exec((await facts.text('/proc/meminfo')) ?? '');
    if (!memMatch || cpus === 0) throw new Error('cannot read /sys/devices/system/cpu/online or MemTotal in /proc/meminfo');
    const mib = Math.floor(Number(memMatch[1]) / 1024);
    const observed = `${cpus} CPUs, ${(mib / 1024).toFixed(1)} GiB memory`;
    const short = [cpus < MIN_CPUS ? `fewer than ${MIN_CPUS} CPUs` : '', mib < MIN_MIB ? `less than ${MIN_MIB} MiB memory` : ''].filter(Boolean);
    if (short.length === 0) return pass(observed);
    return {
      status: 'fail',
      summary: `${observed}: ${short.join(' and ')}, kubeadm refuses to set up a control plane`,
      remedy: `give this host at least ${MIN_CPUS} CPUs and 2 GiB of memory`,
    };
  },
};

/** Counts a CPU list such as "0-3,6,8-9". */
export function countCpus(list: string): number {
  return list
    .trim()
    .split(',')
    .filter(Boolean)
    .reduce((sum, part) => {
      const [from, to] = part.split('-').map(Number);
      return sum + (to === undefined ? 1 : to - from! + 1);
    }, 0);
}
