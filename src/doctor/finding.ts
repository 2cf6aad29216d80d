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
  /** Host ports the cluster will publish; used for the unprivileged-port check. */
  ports: readonly number[];
}

export interface CheckContext extends DoctorOptions {
  host: Host;
  facts: HostFacts;
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
