import type { EngineInfo, RootlessNetwork } from './types.js';

/** Fields of Podman's /libpod/info that rootlet reads. */
export interface PodmanInfo {
  host: {
    cgroupVersion?: string;
    cgroupManager?: string;
    cgroupControllers?: string[];
    networkBackend?: string;
    rootlessNetworkCmd?: string;
    pasta?: { executable?: string };
    slirp4netns?: { executable?: string };
    security?: { rootless?: boolean };
  };
  store?: { graphDriverName?: string };
  version?: { Version?: string };
}

/** Fields of Docker's /info that rootlet reads. */
export interface DockerInfo {
  ServerVersion?: string;
  SecurityOptions?: string[];
  CgroupVersion?: string;
  CgroupDriver?: string;
  Driver?: string;
}

/** Podman's answer, mapped once. Podman 4's compat /info does not say rootless; its libpod endpoint does. */
export function podmanEngineInfo(info: PodmanInfo, socket: string): EngineInfo {
  const host = info.host;
  const rootlessNetwork: RootlessNetwork =
    host.rootlessNetworkCmd === 'pasta' || host.rootlessNetworkCmd === 'slirp4netns'
      ? host.rootlessNetworkCmd
      : host.slirp4netns?.executable
        ? 'slirp4netns'
        : host.pasta?.executable
          ? 'pasta'
          : 'unknown';
  const rootless = host.security?.rootless === true;
  return {
    kind: 'podman',
    version: info.version?.Version ?? 'unknown',
    rootless,
    cgroupVersion: host.cgroupVersion === 'v2' ? 2 : 1,
    cgroupDriver: host.cgroupManager ?? 'unknown',
    controllers: host.cgroupControllers,
    rootlessNetwork: rootless ? rootlessNetwork : 'host',
    networkBackend: host.networkBackend ?? 'unknown',
    storageDriver: info.store?.graphDriverName ?? 'unknown',
    socket,
  };
}

export function dockerEngineInfo(info: DockerInfo, socket: string): EngineInfo {
  const rootless = (info.SecurityOptions ?? []).some((option) => option.split(',').includes('name=rootless'));
  return {
    kind: 'docker',
    version: (info.ServerVersion ?? 'unknown').replace(/\+.*$/, ''),
    rootless,
    cgroupVersion: info.CgroupVersion === '2' ? 2 : 1,
    cgroupDriver: info.CgroupDriver ?? 'unknown',
    controllers: undefined,
    // Rootless Docker always runs inside RootlessKit; its port driver is not reported by the API.
    rootlessNetwork: rootless ? 'rootlesskit' : 'host',
    networkBackend: 'bridge',
    storageDriver: info.Driver ?? 'unknown',
    socket,
  };
}

/** [major, minor] of an engine version such as "4.3.1" or "20.10.24+dfsg1". */
function versionParts(version: string): [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

export const MINIMUM_VERSION: Record<EngineInfo['kind'], [number, number]> = { podman: [4, 0], docker: [20, 10] };

export function versionSupported(info: Pick<EngineInfo, 'kind' | 'version'>): boolean {
  const [major, minor] = versionParts(info.version);
  const [needMajor, needMinor] = MINIMUM_VERSION[info.kind];
  return major > needMajor || (major === needMajor && minor >= needMinor);
}
