import type { Host } from '../host/host.js';

/** The host's hard open-files limit, which the engine cannot raise for a rootless container. */
export async function hardNofile(host: Host): Promise<number | undefined> {
  const limits = await host.readText('/proc/self/limits').catch(() => '');
  const value = /^Max open files\s+\S+\s+(\d+)/m.exec(limits)?.[1];
  return value === undefined ? undefined : Number(value);
}
