import { sysctlFix, sysctlRemedy } from '../fix.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

/** Every node's kubelet, containerd and pods share the user's inotify budget; kind documents the same minimums. */
const MINIMUM = { 'fs.inotify.max_user_watches': 524288, 'fs.inotify.max_user_instances': 512 };

export const sysctlInotify: Check = {
  id: 'sysctl.inotify',
  async run({ facts }) {
    const values = await Promise.all(Object.keys(MINIMUM).map(async (name) => [name, Number((await facts.sysctl(name)) ?? 0)] as const));
    const low = values.filter(([name, value]) => value < MINIMUM[name as keyof typeof MINIMUM]);
    const observed = values.map(([name, value]) => `${name.split('.').pop()} = ${value}`).join(', ');
    if (low.length === 0) return pass(observed);
    const settings = Object.fromEntries(low.map(([name]) => [name, MINIMUM[name as keyof typeof MINIMUM]]));
    return {
      status: 'warn',
      summary: `${observed}: below ${low.map(([name]) => `${MINIMUM[name as keyof typeof MINIMUM]}`).join(' and ')}, pods fail with "too many open files"`,
      remedy: sysctlRemedy('60-rootlet-inotify.conf', settings),
      fix: sysctlFix('sysctl.inotify', '60-rootlet-inotify.conf', settings, 'Enough inotify watches and instances for several nodes.'),
    };
  },
};
