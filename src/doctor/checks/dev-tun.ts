import { deviceAccess } from '../device-access.js';
import { fileRemedy, writeFile } from '../fix-steps.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

const RULE = '/etc/udev/rules.d/60-rootlet-tun.rules';
const RULE_CONTENT = 'KERNEL=="tun", MODE="0666"\n';

export const devTun: Check = {
  id: 'dev.tun',
  async run(ctx) {
    const access = await deviceAccess(ctx, '/dev/net/tun');
    if (access.usable) return pass(`${access.observed}: usable by ${ctx.user}`);
    const missing = access.info === undefined;
    return {
      status: 'fail',
      summary: `${access.observed}${missing ? '' : `: ${ctx.user} cannot open it`}; slirp4netns and pasta need it for rootless networking`,
      remedy: `as root: ${missing ? 'modprobe tun (or boot a kernel with CONFIG_TUN); ' : ''}chmod 666 /dev/net/tun; ${fileRemedy(RULE, RULE_CONTENT)}`,
      fix: {
        key: 'dev.tun',
        lines: [
          ...writeFile(RULE, RULE_CONTENT, 'Keep /dev/net/tun open to every user across reboots (the usual mode on desktop distributions).'),
          '# Open it now.',
          ...(missing ? ['[ -n "$ROOT" ] || now modprobe tun'] : []),
          '[ ! -e "$ROOT/dev/net/tun" ] || chmod 666 "$ROOT/dev/net/tun"',
        ],
      },
    };
  },
};
