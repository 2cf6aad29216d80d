import { shellLine } from '../../host/shell-quote.js';
import type { Host } from '../../host/host.js';
import type { HostFacts } from '../facts.js';
import { applyNow, writeFile } from '../fix.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

/** Module name -> the kernel config symbol that builds it. A user namespace cannot load modules, so all must be there first. */
const MODULES: Record<string, string> = {
  br_netfilter: 'BRIDGE_NETFILTER',
  vxlan: 'VXLAN',
  ip_tables: 'IP_NF_IPTABLES',
  iptable_nat: 'IP_NF_NAT',
  ip6_tables: 'IP6_NF_IPTABLES',
  ip6table_nat: 'IP6_NF_NAT',
  overlay: 'OVERLAY_FS',
  openvswitch: 'OPENVSWITCH',
};
const CONF = '/etc/modules-load.d/rootlet.conf';

type Presence = 'loaded' | 'built-in' | 'loadable' | 'absent-from-kernel' | 'unknown';

export const kernelModules: Check = {
  id: 'kernel.modules',
  async run({ facts, host, cni }) {
    const wanted = Object.keys(MODULES).filter((name) => name !== 'openvswitch' || cni === 'antrea');
    const presence = await modulePresence(facts, host, wanted);
    const missing = wanted.filter((name) => ['loadable', 'absent-from-kernel', 'unknown'].includes(presence.get(name)!));
    const count = (state: Presence) => wanted.filter((name) => presence.get(name) === state).length;
    if (missing.length === 0) {
      return pass(`all ${wanted.length} needed modules present (${count('loaded')} loaded, ${count('built-in')} built in)`);
    }
    const absent = missing.filter((name) => presence.get(name) === 'absent-from-kernel');
    const loadable = missing.filter((name) => !absent.includes(name));
    const summary = [
      loadable.length > 0 ? `not loaded: ${loadable.join(', ')}` : '',
      absent.length > 0
        ? `not built for kernel ${await facts.kernelRelease()}: ${absent.join(', ')} (no CONFIG_${absent.map((name) => MODULES[name]).join(', CONFIG_')})`
        : '',
    ]
      .filter(Boolean)
      .join('; ');
    const remedyParts = [];
    if (loadable.length > 0) {
      remedyParts.push(`as root: printf '${wanted.join('\\n')}\\n' > ${CONF}; ${shellLine(['modprobe', '-a', ...loadable])}`);
    }
    if (absent.length > 0) remedyParts.push(`boot a kernel built with ${absent.join(', ')} (your distribution's standard kernel has them)`);
    return {
      status: 'fail',
      summary,
      remedy: remedyParts.join('; '),
      ...(loadable.length > 0
        ? {
            fix: {
              key: 'kernel.modules',
              lines: [
                ...writeFile(CONF, `${wanted.join('\n')}\n`, 'Load the modules the nodes need at every boot (a user namespace cannot load them).'),
                ...applyNow(['modprobe', '-a', ...loadable], 'Load them now'),
              ],
            },
          }
        : {}),
    };
  },
};

async function modulePresence(facts: HostFacts, host: Host, names: string[]): Promise<Map<string, Presence>> {
  const release = await facts.kernelRelease();
  const loaded = new Set(((await facts.text('/proc/modules')) ?? '').split('\n').map((line) => normalize(line.split(' ')[0] ?? '')));
  const builtin = new Set(
    ((await facts.text(`/lib/modules/${release}/modules.builtin`)) ?? '')
      .split('\n')
      .map((line) => normalize(line.trim().split('/').pop()?.replace(/\.ko$/, '') ?? '')),
  );
  const config = await facts.kernelConfig();
  const result = new Map<string, Presence>();
  await Promise.all(
    names.map(async (name) => {
      const symbol = config?.get(MODULES[name]!);
      let state: Presence;
      if (loaded.has(name)) state = 'loaded';
      else if (builtin.has(name) || symbol === 'y') state = 'built-in';
      // Not in /proc/modules but in /sys/module: built in (with parameters).
      else if (await host.stat(`/sys/module/${name}`)) state = 'built-in';
      else if (symbol === 'm') state = 'loadable';
      else if (config) state = 'absent-from-kernel';
      else state = 'unknown';
      result.set(name, state);
    }),
  );
  return result;
}

function normalize(name: string): string {
  return name.replaceAll('-', '_');
}
