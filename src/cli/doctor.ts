import path from 'node:path';
import { z } from 'zod';
import { UsageError, ExitCode } from '../errors.js';
import { renderFixScript } from '../doctor/fix-script.js';
import { failed, runDoctor } from '../doctor/run.js';
import type { DoctorReport } from '../doctor/report.js';
import { LocalHost } from '../host/local-host.js';
import { renderDoctorTable } from './doctor-table.js';
import { colorFor, printJson } from './output.js';
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
});

/** `rootlet doctor`: returns the exit code. */
export async function doctorCommand(raw: unknown, { verbose = false } = {}): Promise<number> {
  const options = parseOptions(Options, raw);
  if (options.json && options.fixScript) throw new UsageError('--json and --fix-script both choose what stdout is', 'Use one of them.');
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

async function requireDirectory(dir: string): Promise<void> {
  const info = await new LocalHost().stat(path.resolve(dir)).catch(() => undefined);
  if (info?.type !== 'directory')
    throw new UsageError(`--sysroot ${dir} is not a directory`, 'Pass the directory that holds the tree to check (its proc/, sys/ and etc/).');
}
