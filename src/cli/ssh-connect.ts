import type { SshConnect } from '../cluster/member-hosts.js';

/** SshHost.connect, loaded only when a command reaches another host (node-ssh is not needed otherwise). */
export const connectSsh: SshConnect = async (target, options) => {
  const { SshHost } = await import('../host/ssh-host.js');
  return SshHost.connect(target, options);
};
