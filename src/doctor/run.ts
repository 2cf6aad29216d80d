import { ExitCode, RootletError } from '../errors.js';
import type { Connection } from '../engine/connect.js';
import { HostFileError, type Host } from '../host/host.js';
import { HOST_CHECKS } from './checks/index.js';
import { HostFacts } from './facts.js';
import type { Check, CheckContext, DoctorOptions, Finding } from './finding.js';

export interface HostReport {
  host: string;
  user: string;
  findings: Finding[];
}

export type DoctorRequest = Partial<DoctorOptions> & {
  /** A probe made elsewhere (tests, or a caller that already has one); else doctor probes the host itself. */
  probe?: Connection | undefined;
};

/**
 * The engine of the checked account: its uid's runtime directory, and this process's environment only when
 * the account is the current user (another user's XDG_RUNTIME_DIR is not ours). A sysroot has no engine.
 */
async function probeFor(host: Host, uid: number, self: boolean, request: DoctorRequest): Promise<Connection> {
  // dockerode loads only when an engine is probed: --no-engine stays fast.
  const { probeEngine } = await import('../engine/connect.js');
  // A remote host's environment is not this process's: it is found from its uid alone (/run/user/UID).
  return probeEngine(host, { explicit: request.engineSocket, engine: request.engineKind, env: self && host.id === 'local' ? process.env : {}, uid });
}

const DEFAULTS: Omit<DoctorOptions, 'user'> = {
  noEngine: false,
  cni: 'flannel',
  allowRootful: false,
  // What a cluster publishes on every host (etcd never is).
  ports: [
    { port: 6443, protocol: 'tcp', purpose: 'API server' },
    { port: 10250, protocol: 'tcp', purpose: 'kubelet' },
    { port: 8472, protocol: 'udp', purpose: 'VXLAN' },
  ],
};

/** Runs every check against `host` concurrently. A check that throws becomes a `fail` finding; the others still report. */
export async function runDoctor(host: Host, request: DoctorRequest = {}, checks: readonly Check[] = HOST_CHECKS): Promise<HostReport> {
  const facts = new HostFacts(host);
  const user = request.user ?? (await host.user());
  const account = await facts.account(user).catch((error: unknown) => {
    if (!(error instanceof HostFileError)) throw error;
    throw new RootletError('host-file', `cannot read ${error.message} on host ${host.id}`, {
      exitCode: ExitCode.hostNotReady,
      hint: 'rootlet reads the host from its files; with --sysroot, point it at a whole root tree (with etc/passwd).',
    });
  });
  const engine = request.probe ?? (request.noEngine || !host.live ? undefined : await probeFor(host, account.uid, user === (await host.user()), request));
  const ctx: CheckContext = { ...DEFAULTS, ...request, user, host, facts, engine };
  const findings = await Promise.all(
    checks.map(async (check): Promise<Finding> => {
      try {
        return { id: check.id, ...(await check.run(ctx)) };
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        return {
          id: check.id,
          status: 'fail',
          summary: `the check itself failed: ${error.message.split('\n')[0]}`,
          remedy: 'mend what the message names (a file that cannot be read, say); --verbose shows where it failed',
          error,
        };
      }
    }),
  );
  return { host: host.id, user, findings };
}

export function failed(report: HostReport): boolean {
  return report.findings.some((finding) => finding.status === 'fail');
}
