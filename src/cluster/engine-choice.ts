import { connectEngine, type ConnectOptions } from '../engine/connect.js';
import type { Engine } from '../engine/engine.js';
import { rootfulEngine } from '../engine/errors.js';
import type { EngineKind } from '../engine/types.js';
import type { Host } from '../host/host.js';

/** Which engine a command uses: --engine-socket, --engine, --allow-rootful. */
export interface EngineChoice {
  socket?: string | undefined;
  kind?: EngineKind | undefined;
  allowRootful: boolean;
}

export function engineOptions(choice: EngineChoice, env: Record<string, string | undefined>): ConnectOptions {
  return { explicit: choice.socket, engine: choice.kind, env, allowRootful: choice.allowRootful };
}

/** The engine for commands that need one (status, down, kubeconfig): reachable and rootless, else exit 4. */
export async function engineFor(host: Host, choice: EngineChoice, env: Record<string, string | undefined>): Promise<Engine> {
  return connectEngine(host, engineOptions(choice, env));
}

/** A probed engine that runs as root is refused unless allowed, as connectEngine refuses it. */
export function requireRootless(engine: Engine, choice: EngineChoice): Engine {
  if (!engine.info.rootless && !choice.allowRootful) throw rootfulEngine(engine.info);
  return engine;
}
