import path from 'node:path';
import { z } from 'zod';
import { ExitCode, interrupted, RootletError, UsageError } from '../errors.js';
import { renderFixScript } from '../doctor/fix-script.js';
import { failed, runDoctor, type HostReport } from '../doctor/run.js';
import type { DoctorReport } from '../doctor/report.js';
import { LocalHost } from '../host/local-host.js';
import { parseSshTarget, type SshTarget } from '../host/ssh-target.js';
import { renderDoctorTable } from './doctor-table.js';
import { colorFor, printJson } from './output.js';
import { withInterrupt } from './interrupt.js';
import { parseOptions } from './parse-options.js';

const Options = z.object({
  json: z.boolean().default(false),
  sysroot: z.string().min(1).optional(),
  user: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/, 'must be a user name such as alice')
    .optional(),
  engine: z.boolean().default(true),
  fixScript: z.boolean().default(false),
  cni: z.enum(['flannel', 'antrea', 'none']).default('flannel'),
  engineKind: z.enum(['podman', 'docker']).optional(),
  engineSocket: z.string().min(1).optional(),
  allowRootful: z.boolean().default(false),
  identity: z.array(z.string().min(1)).default([]),
  acceptNewHostKeys: z.boolean().default(false),
});

interface HostOutcome {
  target: string;
  report?: HostReport;
  error?: RootletError;
}

/**
 * Checks one host over SSH: the same checks, reading its files and reaching its engine through the connection.
 * A host that cannot be reached is an outcome, not an exception: the other hosts are still checked.
 */
async function checkRemote(target: SshTarget, text: string, options: z.infer<typeof Options>, signal: AbortSignal): Promise<HostOutcome> {
  const { SshHost } = await import('../host/ssh-host.js');
  let host: Awaited<ReturnType<typeof SshHost.connect>> | undefined;
  try {
    host = await SshHost.connect(target, { identityFiles: options.identity, acceptNewHostKeys: options.acceptNewHostKeys, signal });
    const report = await runDoctor(host, {
      noEngine: !options.engine,
      cni: options.cni,
      engineSocket: options.engineSocket,
      engineKind: options.engineKind,
      allowRootful: options.allowRootful,
    });
    return { target: text, report };
  } catch (error) {
    if (signal.aborted) throw interrupted(error);
    if (error instanceof RootletError) return { target: text, error };
    throw error;
  } finally {
    // Closes the connection and removes the forwarded sockets' directories, also after Ctrl-C.
    await host?.dispose();
  }
}

/** `rootlet doctor`: returns the exit code. */
export async function doctorCommand(raw: unknown, { verbose = false, hosts = [] as string[] } = {}): Promise<number> {
  const options = parseOptions(Options, raw);
  if (options.json && options.fixScript) throw new UsageError('--json and --fix-script both choose what stdout is', 'Use one of them.');
  if (hosts.length > 0) {
    if (options.sysroot !== undefined) throw new UsageError('--sysroot reads a tree on this machine, not on HOST', 'Give either --sysroot or hosts.');
    if (options.user !== undefined)
      throw new UsageError('--user names a local account; on a remote host the SSH user is checked', 'Write the host as USER@HOST.');
    if (options.fixScript && hosts.length > 1) throw new UsageError('--fix-script writes one script for one host', 'Give one host.');
    // Every target is validated before anything connects.
    const targets = hosts.map((text) => ({ text, target: parseSshTarget(text) }));
    return withInterrupt(async (signal) => {
      const outcomes = await Promise.all(targets.map(({ text, target }) => checkRemote(target, text, options, signal)));
      if (signal.aborted) throw interrupted();
      return reportOutcomes(outcomes, options, verbose);
    });
  }
  if (options.sysroot !== undefined) await requireDirectory(options.sysroot);
  const host = new LocalHost(options.sysroot === undefined ? {} : { root: options.sysroot });
  const report = await runDoctor(host, {
    ...(options.user === undefined ? {} : { user: options.user }),
    noEngine: !options.engine,
    cni: options.cni,
    engineSocket: options.engineSocket,
    engineKind: options.engineKind,
    allowRootful: options.allowRootful,
  });
  if (options.fixScript) {
    process.stdout.write(renderFixScript(report, options.sysroot === undefined ? {} : { sysroot: options.sysroot }));
    return ExitCode.ok;
  }
  if (options.json) {
    const document: DoctorReport = {
      hosts: [{ host: report.host, user: report.user, checks: report.findings.map(({ id, status, summary, remedy }) => ({ id, status, summary, remedy })) }],
    };
    printJson(document);
  } else {
    process.stdout.write(renderDoctorTable(report, colorFor(process.stdout)));
  }
  if (verbose) {
    for (const finding of report.findings) if (finding.error?.stack) process.stderr.write(`${finding.id}: ${finding.error.stack}\n`);
  }
  return failed(report) ? ExitCode.hostNotReady : ExitCode.ok;
}

function reportOutcomes(outcomes: HostOutcome[], options: z.infer<typeof Options>, verbose: boolean): number {
  const reports = outcomes.flatMap((outcome) => (outcome.report ? [outcome.report] : []));
  if (options.fixScript) {
    const [outcome] = outcomes;
    if (outcome?.error) throw outcome.error;
    process.stdout.write(renderFixScript(reports[0]!));
    return ExitCode.ok;
  }
  if (options.json) {
    const document: DoctorReport = {
      hosts: outcomes.map((outcome) =>
        outcome.report
          ? {
              host: outcome.report.host,
              user: outcome.report.user,
              checks: outcome.report.findings.map(({ id, status, summary, remedy }) => ({ id, status, summary, remedy })),
            }
          : { host: outcome.target, user: '', error: outcome.error!.toJSON(), checks: [] },
      ),
    };
    printJson(document);
  } else {
    const paint = colorFor(process.stdout);
    for (const outcome of outcomes) {
      if (outcome.report) process.stdout.write(`${renderDoctorTable(outcome.report, paint)}\n`);
      else
        process.stdout.write(
          `${paint('bold', `rootlet doctor: host ${outcome.target}`)}\n\n${paint('red', 'not checked')}: ${outcome.error!.message}\n${outcome.error!.hint ? `hint: ${outcome.error!.hint}\n` : ''}\n`,
        );
    }
  }
  if (verbose) {
    for (const report of reports)
      for (const finding of report.findings) if (finding.error?.stack) process.stderr.write(`${report.host} ${finding.id}: ${finding.error.stack}\n`);
  }
  const unreachable = outcomes.find((outcome) => outcome.error);
  if (unreachable?.error) return unreachable.error.exitCode;
  return reports.some(failed) ? ExitCode.hostNotReady : ExitCode.ok;
}

async function requireDirectory(dir: string): Promise<void> {
  const info = await new LocalHost().stat(path.resolve(dir)).catch(() => undefined);
  if (info?.type !== 'directory')
    throw new UsageError(`--sysroot ${dir} is not a directory`, 'Pass the directory that holds the tree to check (its proc/, sys/ and etc/).');
}
