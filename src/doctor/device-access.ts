import type { FileInfo } from '../host/host.js';
import type { CheckContext } from './finding.js';

export interface DeviceAccess {
  info: FileInfo | undefined;
  /** The user can open it for reading and writing. */
  usable: boolean;
  observed: string;
}

/** Whether `user` may read and write the character device at `path`, from its owner, group and mode. */
export async function deviceAccess({ host, facts, user }: CheckContext, path: string): Promise<DeviceAccess> {
  const info = await host.stat(path);
  if (!info) return { info, usable: false, observed: `${path} does not exist` };
  const mode = `0${(info.mode & 0o777).toString(8).padStart(3, '0')}`;
  if (info.type !== 'char-device') return { info, usable: false, observed: `${path} is a ${info.type}, not a character device` };
  const account = await facts.account(user);
  const groups = await facts.groupIds(account);
  const bits = account.uid === 0 ? 0o6 : info.uid === account.uid ? (info.mode >> 6) & 0o6 : groups.has(info.gid) ? (info.mode >> 3) & 0o6 : info.mode & 0o6;
  return { info, usable: bits === 0o6, observed: `${path} is mode ${mode}, owner ${info.uid}:${info.gid}` };
}
