import { deviceAccess } from '../device-access.js';
import { writeFile } from '../fix.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

const RULE = '/etc/udev/rules.d/60-rootlet-tun.rules';

export const devTun: Check = {
  id: 'dev.tun',
  async run(ctx) {
    const access = await deviceAccess(ctx, '/dev/net/tun');
    if (access.usable) return pass(`${access.observed}: usable by ${ctx.user}`);
    const missing = access.info === undefined;
    return {
      status: 'fail',
      summary: `${access.observed}${missing ? '' : `: ${ctx.user} cannot open it`}; slirp4netns and pasta need it for rootless networking`,
      remedy: missing
        ? 'as root: modprobe tun (or boot a kernel with CONFIG_TUN), then chmod 666 /dev/net/tun'
        : `as root: chmod 666 /dev/net/tun; echo 'KERNEL=="tun", MODE="0666"' > ${RULE}`,
      fix: {
        key: 'dev.tun',
        lines: [
          ...writeFile(RULE, 'KERNEL=="tun", MODE="0666"\n', 'Keep /dev/net/tun open to every user across reboots (the usual mode on desktop distributions).'),
          '# Open it now.',
          ...(missing ? ['[ -n "$ROOT" ] || now modprobe tun'] : []),
          '[ ! -e "$ROOT/dev/net/tun" ] || chmod 666 "$ROOT/dev/net/tun"',
        ],
      },
    };
  },
};
