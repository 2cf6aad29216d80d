import { kernelAtLeast } from '../kernel-release.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

export const kernelVersion: Check = {
  id: 'kernel.version',
  async run({ facts }) {
    const release = await facts.kernelRelease();
    const remedy = 'install a newer distribution kernel (Debian 12: 6.1, Ubuntu 24.04: 6.8, Fedora: 6.x) and reboot into it';
    if (!kernelAtLeast(release, 5, 11)) {
      return { status: 'fail', summary: `kernel ${release} is older than 5.11: overlayfs cannot be mounted in a user namespace`, remedy };
    }
    if (!kernelAtLeast(release, 5, 13)) {
      return { status: 'warn', summary: `kernel ${release} is older than 5.13: rootless overlayfs fails there when SELinux is enforcing`, remedy };
    }
    return pass(`kernel ${release}`);
  },
};
