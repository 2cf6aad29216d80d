import type { IncomingMessage } from 'node:http';
import Docker from 'dockerode';
import { HostFileError, type Host } from '../host/host.js';
import { dial, DockerApiEngine } from './docker-api.js';
import type { Engine } from './engine.js';
import { dockerEngineInfo, podmanEngineInfo, type DockerInfo, type PodmanInfo } from './engine-info.js';
import { engineUnreachable, rootfulEngine, type Attempt } from './errors.js';
import { socketCandidates, type DiscoveryInput, type SocketCandidate } from './discovery.js';
import type { EngineKind } from './types.js';

export interface ConnectOptions extends Omit<DiscoveryInput, 'env' | 'uid'> {
  env?: Record<string, string | undefined>;
  uid?: number;
  allowRootful?: boolean;
  /** How long one socket may take to answer. */
  timeoutMs?: number;
}

export interface Connection {
  engine: Engine | undefined;
  attempts: Attempt[];
}

/**
 * Tries each socket in discovery order and probes the first that answers into EngineInfo.
 * Never throws for a socket that does not answer: every attempt is recorded, for doctor and for the error.
 */
export async function probeEngine(host: Host, options: ConnectOptions = {}): Promise<Connection> {
  const candidates = socketCandidates({
    explicit: options.explicit,
    engine: options.engine,
    env: options.env ?? process.env,
    uid: options.uid ?? process.getuid?.() ?? 0,
  });
  const attempts: Attempt[] = [];
  for (const candidate of candidates) {
    if (candidate.unusable) {
      attempts.push({ candidate, outcome: candidate.unusable });
      continue;
    }
    const info = await host.stat(candidate.path).catch((error: unknown) => (error instanceof HostFileError ? error : undefined));
    if (info instanceof HostFileError) {
      attempts.push({ candidate, outcome: info.problem === 'denied' ? 'permission denied (the socket belongs to another user)' : info.message });
      continue;
    }
    if (!info) {
      attempts.push({ candidate, outcome: 'no socket there' });
      continue;
    }
    if (info.type !== 'socket') {
      attempts.push({ candidate, outcome: `a ${info.type}, not a socket` });
      continue;
    }
    // The probe may give up quickly; the engine's own client has no timeout (builds and pulls go quiet for long).
    let socketPath: string;
    try {
      socketPath = await host.reachSocket(candidate.path);
    } catch (error) {
      attempts.push({ candidate, outcome: error instanceof Error ? error.message : String(error) });
      continue;
    }
    const probe = new Docker({ socketPath, timeout: options.timeoutMs ?? 5000 });
    try {
      const engine = await identify(probe, new Docker({ socketPath }), candidate);
      if (options.engine && engine.info.kind !== options.engine) {
        attempts.push({ candidate, outcome: `answers as ${engine.info.kind}, not ${options.engine}` });
        continue;
      }
      return { engine, attempts };
    } catch (error) {
      attempts.push({ candidate, outcome: transportProblem(error) });
    }
  }
  return { engine: undefined, attempts };
}

/** The engine to run nodes on: reachable and rootless (or rootful only when allowed). Exit 4 otherwise. */
export async function connectEngine(host: Host, options: ConnectOptions = {}): Promise<Engine> {
  const { engine, attempts } = await probeEngine(host, options);
  if (!engine) throw engineUnreachable(attempts);
  if (!engine.info.rootless && !options.allowRootful) throw rootfulEngine(engine.info);
  return engine;
}

async function identify(probe: Docker, client: Docker, candidate: SocketCandidate): Promise<Engine> {
  const kind = await engineKind(probe);
  if (kind === 'podman') {
    // Podman 4's compat /info does not say whether it is rootless; its libpod endpoint does.
    const info = await dial<PodmanInfo>(probe, { method: 'GET', path: '/v4.0.0/libpod/info' });
    return new DockerApiEngine(client, podmanEngineInfo(info, candidate.path));
  }
  return new DockerApiEngine(client, dockerEngineInfo((await probe.info()) as DockerInfo, candidate.path));
}

/**
 * Podman or Docker, from the headers of `/_ping`: Podman answers with Libpod-Api-Version. `/version` says the same in
 * its body but costs Podman 4.3 half a second (it gathers host information), on every command that needs an engine.
 */
async function engineKind(probe: Docker): Promise<EngineKind> {
  const response = await new Promise<IncomingMessage>((resolve, reject) =>
    probe.modem.dial({ path: '/_ping', method: 'GET', isStream: true, statusCodes: { 200: true } }, (error: Error | null, stream: unknown) =>
      error ? reject(error) : resolve(stream as IncomingMessage),
    ),
  );
  response.resume();
  // Docker and Podman both answer /_ping with Api-Version: a socket without it is some other HTTP server.
  if (response.headers['api-version'] === undefined) throw new Error('answers HTTP, but not as a Docker or Podman API');
  return response.headers['libpod-api-version'] === undefined ? 'docker' : 'podman';
}

function transportProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied (the socket belongs to another user)';
  if (code === 'ECONNREFUSED') return 'nothing listening (the engine service is stopped)';
  if (code === 'ENOENT') return 'no socket there';
  // Node's HTTP parser: something listens there, but does not speak HTTP.
  if (code?.startsWith('HPE_')) return 'answers, but not in HTTP: not an engine API socket';
  // docker-modem ends a request that times out by destroying its socket: "socket hang up".
  if (/timeout|socket hang up/i.test(String((error as Error).message))) return 'no answer in time';
  return (error as Error).message ?? String(error);
}
