import { deviceAccess } from '../device-access.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

export const devFuse: Check = {
  id: 'dev.fuse',
  async run(ctx) {
    const access = await deviceAccess(ctx, '/dev/fuse');
    if (access.usable) return pass(`${access.observed}: usable by ${ctx.user}`);
    return {
      status: 'warn',
      summary: `${access.observed}: without /dev/fuse nodes cannot fall back to fuse-overlayfs where native overlayfs is refused`,
      remedy: access.info === undefined ? 'as root: modprobe fuse' : 'as root: chmod 666 /dev/fuse',
    };
  },
};
