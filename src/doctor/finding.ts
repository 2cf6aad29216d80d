import type { Connection } from '../engine/connect.js';
import type { EngineKind } from '../engine/types.js';
import type { Host } from '../host/host.js';
import type { HostFacts } from './facts.js';
import type { Fix } from './fix-steps.js';

export const STATUSES = ['fail', 'warn', 'pass', 'skip'] as const;
export type Status = (typeof STATUSES)[number];

export interface Finding {
  id: string;
  status: Status;
  /** One line with the observed value. */
  summary: string;
  /** A concrete command or file content that fixes it; empty when nothing is to be done. */
  remedy: string;
  /** What --fix-script does for this finding, when root can fix it on this host. */
  fix?: Fix;
  /** When the check itself threw: the error, for --verbose (never in --json). */
  error?: Error;
}

export type Cni = 'flannel' | 'antrea' | 'none';

export interface DoctorOptions {
  /** The account the cluster will run as. */
  user: string;
  /** Checks that need a live engine or run commands report `skip`. */
  noEngine: boolean;
  cni: Cni;
  /** Host ports the cluster will publish, and the address they bind. */
  ports: readonly PublishedPort[];
  /** Where to look for the engine (--engine-socket, --engine). */
  engineSocket?: string | undefined;
  engineKind?: EngineKind | undefined;
  /** --allow-rootful: a rootful engine is a warning, not a failure. */
  allowRootful: boolean;
}

export interface PublishedPort {
  port: number;
  protocol: 'tcp' | 'udp';
  /** What the port is for, in messages. */
  purpose: string;
  /** The host address it will be published on; unset: any (a listener on any address of the host is a conflict). */
  address?: string;
}

export interface CheckContext extends DoctorOptions {
  host: Host;
  facts: HostFacts;
  /** The engine probe: which sockets were tried and what answered (undefined: not probed). */
  engine: Connection | undefined;
}

/** What a check reports; the runner adds its id. */
export type CheckResult = Omit<Finding, 'id'>;

export interface Check {
  id: string;
  run(ctx: CheckContext): Promise<CheckResult>;
}

export function pass(summary: string): CheckResult {
  return { status: 'pass', summary, remedy: '' };
}
