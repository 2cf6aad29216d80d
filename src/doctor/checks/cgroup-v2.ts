import type { Check } from '../finding.js';
import { pass } from '../finding.js';

const PARAM = 'systemd.unified_cgroup_hierarchy=1';

export const cgroupV2: Check = {
  id: 'cgroup.v2',
  async run({ facts }) {
    const layout = await facts.cgroupLayout();
    if (layout === 'unified') return pass('cgroup v2 is the unified hierarchy at /sys/fs/cgroup');
    const summary =
      layout === 'hybrid'
        ? 'cgroup v2 is not the unified hierarchy: hybrid mode, v1 controllers at /sys/fs/cgroup and cgroup2 only at /sys/fs/cgroup/unified'
        : 'cgroup v2 is not mounted: only cgroup v1 controllers at /sys/fs/cgroup';
    return {
      status: 'fail',
      summary,
      remedy: `boot with ${PARAM}: add it to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub (Debian/Ubuntu) or grub2-mkconfig -o /boot/grub2/grub.cfg (Fedora/RHEL), and reboot`,
      fix: {
        key: 'cgroup.v2',
        lines: [
          `# Boot with the unified cgroup v2 hierarchy (${PARAM}); takes effect after a reboot.`,
          'if [ -f "$ROOT/etc/default/grub" ]; then',
          '  # Replace any other value of the parameter, or add it; a second run finds it and changes nothing.',
          `  if ! grep -q '${PARAM.replace('.', '\\.')}\\([ "]\\|$\\)' "$ROOT/etc/default/grub"; then`,
          `    if grep -q 'systemd\\.unified_cgroup_hierarchy=' "$ROOT/etc/default/grub"; then`,
          `      sed -i -e 's/systemd\\.unified_cgroup_hierarchy=[^ "]*/${PARAM}/' "$ROOT/etc/default/grub"`,
          '    else',
          `      sed -i -e 's/^GRUB_CMDLINE_LINUX="/&${PARAM} /' "$ROOT/etc/default/grub"`,
          '    fi',
          '  fi',
          '  # Regenerate the boot entries with whichever tool this distribution has (grubby on BLS hosts: Fedora, RHEL).',
          '  if [ -z "$ROOT" ]; then',
          `    if command -v grubby >/dev/null; then now grubby --update-kernel=ALL --args=${PARAM}`,
          '    elif command -v update-grub >/dev/null; then now update-grub',
          '    elif command -v grub2-mkconfig >/dev/null; then now grub2-mkconfig -o /boot/grub2/grub.cfg; fi',
          '  fi',
          'else',
          `  echo "no /etc/default/grub: add ${PARAM} to the kernel command line with your boot loader" >&2`,
          'fi',
        ],
        after: 'reboot so the kernel starts with the unified cgroup v2 hierarchy',
      },
    };
  },
};
