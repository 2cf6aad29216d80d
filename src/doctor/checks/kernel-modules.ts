import type { Host } from '../../host/host.js';
import { shellLine } from '../../host/shell-quote.js';
import type { HostFacts } from '../facts.js';
import { applyNow, fileRemedy, writeFile } from '../fix-steps.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

/**
 * Module name -> the kernel config symbols that build it, newest first (from 6.9 the legacy iptables
 * tables are CONFIG_*_IPTABLES_LEGACY). A user namespace cannot load modules, so all must be there first.
 */
const MODULES: Record<string, string[]> = {
  br_netfilter: ['BRIDGE_NETFILTER'],
  vxlan: ['VXLAN'],
  ip_tables: ['IP_NF_IPTABLES_LEGACY', 'IP_NF_IPTABLES'],
  iptable_nat: ['IP_NF_NAT'],
  ip6_tables: ['IP6_NF_IPTABLES_LEGACY', 'IP6_NF_IPTABLES'],
  ip6table_nat: ['IP6_NF_NAT'],
  overlay: ['OVERLAY_FS'],
  openvswitch: ['OPENVSWITCH'],
};
const CONF = '/etc/modules-load.d/rootlet.conf';

type Presence = 'loaded' | 'built-in' | 'loadable' | 'absent-from-kernel' | 'unknown';

export const kernelModules: Check = {
  id: 'kernel.modules',
  async run({ facts, host, cni }) {
    const wanted = Object.keys(MODULES).filter((name) => name !== 'openvswitch' || cni === 'antrea');
    const presence = await modulePresence(facts, host, wanted);
    const count = (state: Presence) => wanted.filter((name) => presence.get(name) === state).length;
    const loadable = wanted.filter((name) => ['loadable', 'unknown'].includes(presence.get(name)!));
    const absent = wanted.filter((name) => presence.get(name) === 'absent-from-kernel');
    if (loadable.length === 0 && absent.length === 0) {
      return pass(`all ${wanted.length} needed modules present (${count('loaded')} loaded, ${count('built-in')} built in)`);
    }
    const release = await facts.kernelRelease();
    const summary = [
      loadable.length > 0 ? `not loaded: ${loadable.join(', ')}` : '',
      absent.length > 0
        ? `not built for kernel ${release}: ${absent.join(', ')} (no CONFIG_${absent.map((name) => MODULES[name]!.at(-1)).join(', CONFIG_')})`
        : '',
    ]
      .filter(Boolean)
      .join('; ');
    // Only modules this kernel has: systemd-modules-load fails at every boot on one it lacks.
    const persist = wanted.filter((name) => !absent.includes(name));
    const content = `${persist.join('\n')}\n`;
    const remedy = [
      loadable.length > 0 ? `as root: ${fileRemedy(CONF, content)}; ${shellLine(['modprobe', '-a', ...loadable])}` : '',
      absent.length > 0 ? `boot a kernel built with ${absent.join(', ')} (your distribution's standard kernel has them)` : '',
    ]
      .filter(Boolean)
      .join('; ');
    return {
      status: 'fail',
      summary,
      remedy,
      ...(loadable.length > 0
        ? {
            fix: {
              key: 'kernel.modules',
              lines: [
                ...writeFile(CONF, content, 'Load the modules the nodes need at every boot (a user namespace cannot load them).'),
                ...applyNow(['modprobe', '-a', ...loadable], 'Load them now'),
              ],
            },
          }
        : {}),
    };
  },
};

/** Module names listed in a modules.builtin or modules.dep file (path before any ':', without .ko and compression). */
function moduleNames(text: string | undefined): Set<string> {
  return new Set(
    (text ?? '')
      .split('\n')
      .map((line) =>
        normalize(
          line
            .split(':')[0]!
            .trim()
            .split('/')
            .pop()!
            .replace(/\.ko(\.(xz|zst|gz))?$/, ''),
        ),
      )
      .filter(Boolean),
  );
}

async function modulePresence(facts: HostFacts, host: Host, names: string[]): Promise<Map<string, Presence>> {
  const release = await facts.kernelRelease();
  const loaded = new Set(((await facts.text('/proc/modules')) ?? '').split('\n').map((line) => normalize(line.split(' ')[0] ?? '')));
  const builtin = moduleNames(await facts.text(`/lib/modules/${release}/modules.builtin`));
  const available = moduleNames(await facts.text(`/lib/modules/${release}/modules.dep`));
  const config = await facts.kernelConfig();
  const result = new Map<string, Presence>();
  await Promise.all(
    names.map(async (name) => {
      const symbol = MODULES[name]!.map((candidate) => config?.get(candidate)).find((value) => value !== undefined);
      let state: Presence;
      if (loaded.has(name)) state = 'loaded';
      else if (builtin.has(name) || symbol === 'y') state = 'built-in';
      // Not in /proc/modules but in /sys/module: built in (with parameters).
      else if (await host.stat(`/sys/module/${name}`)) state = 'built-in';
      else if (available.has(name) || symbol === 'm') state = 'loadable';
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
