import { ExitCode, interrupted, isAbort, RootletError } from '../errors.js';
import { START_ENGINE_HINT, type SocketCandidate } from './discovery.js';
import type { EngineInfo, EngineKind } from './types.js';

export interface Attempt {
  candidate: SocketCandidate;
  /** Why this socket was not used. */
  outcome: string;
}

export function engineUnreachable(attempts: Attempt[]): RootletError {
  const tried = attempts.map(({ candidate, outcome }) => `${candidate.path} (${candidate.source}): ${outcome}`).join('; ');
  // --engine podman|docker leaves only that engine's sockets: the error names it alone.
  const kinds = new Set(attempts.map(({ candidate }) => candidate.kind));
  const [only] = kinds;
  const which = kinds.size === 1 && only !== undefined ? KIND_NAMES[only] : 'Podman or Docker';
  return new RootletError('engine-unreachable', `no rootless ${which} answered; tried ${tried || 'nothing'}`, {
    exitCode: ExitCode.engine,
    hint: START_ENGINE_HINT,
  });
}

export function rootfulEngine(info: EngineInfo): RootletError {
  return new RootletError(
    'engine-rootful',
    `${engineName(info)} runs as root: its containers would give the cluster root on this host, which rootlet exists to avoid`,
    { exitCode: ExitCode.engine, hint: 'run rootless Podman or Docker as your user (rootlet doctor shows how), or pass --allow-rootful to accept root' },
  );
}

const KIND_NAMES: Record<EngineKind, string> = { podman: 'Podman', docker: 'Docker' };

export function engineName(info: Pick<EngineInfo, 'kind' | 'socket'>): string {
  return `${KIND_NAMES[info.kind]} at ${info.socket}`;
}

interface ApiError {
  statusCode?: number;
  code?: string;
  json?: { message?: string; cause?: string } | null;
  reason?: string;
  message?: string;
}

/** The engine's own words for an API failure: its JSON message, else the transport error. */
function apiMessage(error: unknown): string {
  const e = (error ?? {}) as ApiError;
  const text = e.json?.message ?? e.message ?? String(error);
  return text.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
}

export function statusOf(error: unknown): number | undefined {
  return (error as ApiError | undefined)?.statusCode;
}

/** The socket stopped answering: the engine service died or was stopped. */
function isConnectionLost(error: unknown): boolean {
  const code = (error as ApiError | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * The engine's socket stopped answering in the middle of a command (its service died or was stopped): exit 4, naming
 * the engine, what rootlet was doing, and, once a command's step adds it (`duringStep`), the step.
 */
export class EngineGoneError extends RootletError {
  constructor(
    readonly engine: Pick<EngineInfo, 'kind' | 'socket'>,
    readonly operation: string,
    { cause, step }: { cause: unknown; step?: string },
  ) {
    super(
      'engine-gone',
      step === undefined
        ? `${engineName(engine)} stopped answering while rootlet was to ${operation}`
        : `${engineName(engine)} stopped answering during "${step}" (rootlet was to ${operation})`,
      { exitCode: ExitCode.engine, hint: 'start the engine service again, then re-run the same command: it picks up where it stopped', cause },
    );
  }
}

/** An engine that died during `step` of a command, with that step in its message; any other error as it is. */
export function duringStep(error: unknown, step: string): unknown {
  return error instanceof EngineGoneError ? new EngineGoneError(error.engine, error.operation, { cause: error.cause, step }) : error;
}

/** Known engine messages, mapped to what the user should do; the first match wins. */
const KNOWN: Array<{ pattern: RegExp; code: string; hint: (subject: string) => string }> = [
  {
    pattern: /address already in use|port is already allocated/i,
    code: 'port-in-use',
    hint: () => 'free the host port (ss -ltnup shows who holds it) or publish the node on another port',
  },
  {
    pattern: /bind: permission denied/i,
    code: 'port-privileged',
    hint: () =>
      'a rootless engine cannot bind ports below net.ipv4.ip_unprivileged_port_start: publish a higher port, or lower that sysctl (rootlet doctor shows how)',
  },
  {
    // Docker checks that a bind with propagation rslave sits on a shared or slave mount; a private one cannot pass mounts on.
    pattern: /is not a shared or slave mount/i,
    code: 'mount-propagation',
    hint: () =>
      "the engine cannot pass later mounts on from that host path (the host's mount of it is private): set propagation: none on it in the cluster file's nodes.extraMounts, or make it shared as root (mount --make-rshared /)",
  },
  {
    pattern: /no such image|image not known|manifest unknown|pull access denied/i,
    code: 'image-missing',
    hint: (s) => `load the image into the engine first (podman load / docker load), then retry ${s}`,
  },
  {
    pattern: /no such container|no container with name or id/i,
    code: 'node-missing',
    hint: () => 'something removed the node container; re-run the command to create it again',
  },
];

/** One error for a failed engine operation on a node, naming the node, the engine and the next step. */
export function engineOperationFailed(info: Pick<EngineInfo, 'kind' | 'socket'>, operation: string, error: unknown): RootletError {
  if (error instanceof RootletError) return error;
  if (isAbort(error)) return interrupted(error);
  if (isConnectionLost(error)) return new EngineGoneError(info, operation, { cause: error });
  const message = apiMessage(error);
  const known = KNOWN.find(({ pattern }) => pattern.test(message));
  return new RootletError(known?.code ?? 'engine-failed', `${engineName(info)} could not ${operation}: ${firstLine(message)}`, {
    hint: known ? known.hint(operation) : 'run again with --verbose for the engine’s full answer',
    cause: error,
  });
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 400);
}
