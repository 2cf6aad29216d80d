import type { EngineKind } from './types.js';

export interface SocketCandidate {
  path: string;
  /** Where the path came from, for the error that lists every path tried. */
  source: string;
  /** The engine this path belongs to by convention; undefined when it could be either. */
  kind: EngineKind | undefined;
  /** Why this value is listed but not tried (a tcp:// or ssh:// address). */
  unusable?: string;
}

export interface DiscoveryInput {
  /** --engine-socket or the cluster file's value. */
  explicit?: string | undefined;
  /** --engine podman|docker */
  engine?: EngineKind | undefined;
  env: Record<string, string | undefined>;
  /** The user's uid, for /run/user/UID when XDG_RUNTIME_DIR is unset (SSH sessions without logind). */
  uid: number;
}

/**
 * The sockets to try, in order: an explicit value (alone); CONTAINER_HOST and DOCKER_HOST (unix:// only);
 * the user's Podman socket; the user's Docker socket. Pure, so each rule is tested with an injected env.
 */
export function socketCandidates({ explicit, engine, env, uid }: DiscoveryInput): SocketCandidate[] {
  // A socket the user names is the only one tried: falling back to another engine would surprise them.
  if (explicit) return [{ path: unixPath(explicit), source: '--engine-socket', kind: undefined }];
  const candidates: SocketCandidate[] = [];
  for (const variable of ['CONTAINER_HOST', 'DOCKER_HOST'] as const) {
    const value = env[variable];
    if (value?.startsWith('unix://')) candidates.push({ path: unixPath(value), source: variable, kind: undefined });
    else if (value) {
      candidates.push({
        path: value,
        source: variable,
        kind: undefined,
        unusable: 'not a unix socket: rootlet reaches an engine only through its local unix socket',
      });
    }
  }
  const runtimeDirs = [env.XDG_RUNTIME_DIR, `/run/user/${uid}`].filter((dir): dir is string => Boolean(dir));
  for (const dir of [...new Set(runtimeDirs)]) {
    const from = dir === env.XDG_RUNTIME_DIR ? '$XDG_RUNTIME_DIR' : `/run/user/${uid}`;
    candidates.push({ path: `${dir}/podman/podman.sock`, source: `${from}/podman/podman.sock`, kind: 'podman' });
    candidates.push({ path: `${dir}/docker.sock`, source: `${from}/docker.sock`, kind: 'docker' });
  }
  const unique = candidates.filter((candidate, index) => candidates.findIndex((other) => other.path === candidate.path) === index);
  return engine ? unique.filter((candidate) => candidate.kind === undefined || candidate.kind === engine) : unique;
}

function unixPath(value: string): string {
  return value.replace(/^unix:\/\//, '');
}

/** How to start each engine's user service, for the error when none answers. */
export const START_ENGINE_HINT =
  'start a rootless engine as this user: systemctl --user enable --now podman.socket (Podman), or dockerd-rootless-setuptool.sh install (Docker); or pass --engine-socket PATH';
