import { sysctlFix, sysctlRemedy } from '../fix-steps.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

/** Every node's kubelet, containerd and pods share the user's inotify budget; kind documents the same minimums. */
const MINIMUM = [
  { name: 'fs.inotify.max_user_watches', want: 524288 },
  { name: 'fs.inotify.max_user_instances', want: 512 },
];
const FILE = '60-rootlet-inotify.conf';

export const sysctlInotify: Check = {
  id: 'sysctl.inotify',
  async run({ facts }) {
    const values = await Promise.all(MINIMUM.map(async (knob) => ({ ...knob, value: await facts.sysctl(knob.name) })));
    const observed = values.map(({ name, value }) => `${name.split('.').pop()} = ${value ?? 'unknown'}`).join(', ');
    const low = values.filter(({ value, want }) => value === undefined || !(Number(value) >= want));
    if (low.length === 0) return pass(observed);
    const settings = Object.fromEntries(low.map(({ name, want }) => [name, want]));
    return {
      status: 'warn',
      summary: `${observed}: below ${low.map(({ want }) => want).join(' and ')}, pods fail with "too many open files"`,
      remedy: sysctlRemedy(FILE, settings),
      fix: sysctlFix('sysctl.inotify', FILE, settings, 'Enough inotify watches and instances for several nodes.'),
    };
  },
};
