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
