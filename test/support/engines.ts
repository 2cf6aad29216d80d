import { readFileSync } from 'node:fs';
import { connectEngine } from '../../src/engine/connect.js';
import type { Engine } from '../../src/engine/engine.js';
import type { EngineKind } from '../../src/engine/types.js';
import { LocalHost } from '../../src/host/local-host.js';

/** Written by scripts/engines/provision.sh, which `make test` runs first. */
const ENV_FILE = '/run/rootlet-test-engines.env';

/** The provisioned engine sockets: from the environment, else from provision.sh's file. */
export function engineSockets(): Partial<Record<EngineKind, string>> {
  const fromFile = (() => {
    try {
      return Object.fromEntries(
        readFileSync(ENV_FILE, 'utf8')
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => line.split('=', 2) as [string, string]),
      );
    } catch {
      return {} as Record<string, string>;
    }
  })();
  const pick = (name: string) => process.env[name] ?? fromFile[name];
  const podman = pick('ROOTLET_TEST_PODMAN_SOCKET');
  const docker = pick('ROOTLET_TEST_DOCKER_SOCKET');
  return { ...(podman ? { podman } : {}), ...(docker ? { docker } : {}) };
}

export const MISSING_ENGINES =
  'SKIPPED: no rootless engines on this machine; run `bash scripts/engines/provision.sh` as root (make test does). CI counts this skip as a failure.';

export async function testEngine(kind: EngineKind, socket: string): Promise<Engine> {
  return connectEngine(new LocalHost(), { explicit: socket, engine: kind, env: {}, uid: 0 });
}

/**
 * The fault tests' own user (scripts/engines/faults-engine.sh kills and starts its engines): rootless Podman and rootless
 * Docker both, from the environment, else from provision.sh's file; undefined until provisioned.
 */
export function faultsEngines(): { user: string; sockets: Record<EngineKind, string> } | undefined {
  const fromFile = readEnvFacts();
  const pick = (name: string) => process.env[name] ?? fromFile[name];
  const user = pick('ROOTLET_TEST_FAULTS_USER');
  const podman = pick('ROOTLET_TEST_FAULTS_PODMAN_SOCKET');
  const docker = pick('ROOTLET_TEST_FAULTS_DOCKER_SOCKET');
  return user && podman && docker ? { user, sockets: { podman, docker } } : undefined;
}

/** provision.sh's file as KEY=VALUE pairs (a value may hold `=`); empty when it is missing. */
function readEnvFacts(): Record<string, string> {
  try {
    return Object.fromEntries(
      readFileSync(ENV_FILE, 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  } catch {
    return {};
  }
}
