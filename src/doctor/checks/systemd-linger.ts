import { shellQuote } from '../../host/shell-quote.js';
import type { Check } from '../finding.js';
import { pass } from '../finding.js';

export const systemdLinger: Check = {
  id: 'systemd.linger',
  async run({ host, user }) {
    const file = `/var/lib/systemd/linger/${user}`;
    if (await host.stat(file)) return pass(`lingering is on for ${user}: the cluster keeps running after logout`);
    return {
      status: 'warn',
      summary: `lingering is off for ${user} (no ${file}): the engine and the cluster stop when ${user} logs out`,
      remedy: `as root: loginctl enable-linger ${user}`,
      fix: {
        key: 'systemd.linger',
        forUser: true,
        lines: [
          `# Keep ${user}'s services (the engine, the nodes) running without a login session.`,
          `if [ -z "$ROOT" ]; then now loginctl enable-linger -- ${shellQuote(user)}; else mkdir -p "$ROOT/var/lib/systemd/linger" && : > "$ROOT"${shellQuote(file)}; fi`,
        ],
      },
    };
  },
};
