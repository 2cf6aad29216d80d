import type { Check } from '../finding.js';
import { pass } from '../finding.js';

export const userNonroot: Check = {
  id: 'user.nonroot',
  async run({ facts, user }) {
    const account = await facts.account(user);
    if (account.uid !== 0) return pass(`${account.name} (uid ${account.uid}) is a regular user`);
    return {
      status: 'fail',
      summary: `${account.name} has uid 0: a rootless cluster runs as a regular user, and root's engine would give the cluster root on this host`,
      remedy:
        'as root: useradd -m alice && loginctl enable-linger alice; then log in as alice (not su) and run rootlet there, or check that account with --user alice',
    };
  },
};
