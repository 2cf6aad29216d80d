import { shellQuote } from '../host/shell-quote.js';
import { comment } from './fix-steps.js';
import type { HostReport } from './run.js';

export interface FixScriptOptions {
  /** Files are written under this directory instead of / (doctor --sysroot). */
  sysroot?: string;
}

/**
 * One POSIX shell script for root that fixes, idempotently, everything root can fix for the findings
 * that are not `pass`, and lists what it leaves to the user. Pure: the same report gives the same script.
 */
export function renderFixScript(report: HostReport, options: FixScriptOptions = {}): string {
  const open = report.findings.filter((finding) => finding.status !== 'pass');
  // For root there is nothing per-user to set up: rootlet refuses to run clusters as root (user.nonroot).
  const isRoot = report.findings.some((finding) => finding.id === 'user.nonroot' && finding.status === 'fail');
  const fixable = open.filter((finding) => finding.fix && !(isRoot && finding.fix.forUser));
  const seen = new Set<string>();
  const out = [
    '#!/bin/sh',
    `# Written by \`rootlet doctor --fix-script\` for user ${report.user} on host ${report.host}.`,
    '# Review it, then run it as root: sudo sh ./rootlet-fix.sh',
    '# Every step is idempotent: running the script again changes nothing.',
    '# ROOT is the directory files are written under (empty: this host); steps that act on the',
    '# running system are skipped when ROOT is set.',
    'set -eu',
    // ROOT from the environment wins; else the sysroot this script was written for.
    `[ -n "\${ROOT+set}" ] || ROOT=${options.sysroot === undefined || options.sysroot === '/' ? "''" : shellQuote(options.sysroot)}`,
    'if [ "$(id -u)" != 0 ]; then echo "rootlet fix script: run it as root (sudo sh $0)" >&2; exit 1; fi',
    '# Steps that act on the running system go through now(): a failure is reported, the rest still runs.',
    "not_applied=''",
    'now() {',
    '  "$@" || { echo "rootlet fix script: \'$*\' failed (see above); run it again once the system allows it" >&2; not_applied="$not_applied; $*"; }',
    '}',
  ];
  for (const finding of fixable) {
    const fix = finding.fix!;
    if (seen.has(fix.key)) continue;
    seen.add(fix.key);
    out.push('', comment(`${finding.id} (${finding.status}): ${finding.summary}`), ...fix.lines);
  }
  const manual = open.filter((finding) => !fixable.includes(finding) && finding.remedy !== '');
  if (manual.length > 0) {
    out.push('', '# Not fixed by this script (needs your decision, another kernel or other hardware):');
    for (const finding of manual) out.push(comment(`  ${finding.id}: ${finding.remedy}`));
  }
  const after = fixable.flatMap((finding) => (finding.fix?.after ? [finding.fix.after] : []));
  out.push('');
  if (fixable.length === 0) {
    out.push(`echo ${shellQuote('rootlet: nothing for root to fix here.')}`);
  } else {
    out.push(`echo ${shellQuote(`rootlet: applied fixes for ${fixable.map((finding) => finding.id).join(', ')}.`)}`);
    for (const step of [...new Set(after)]) out.push(`echo ${shellQuote(`then: ${step}`)}`);
  }
  out.push('if [ -n "$not_applied" ]; then echo "rootlet fix script: not applied to the running system:${not_applied#;}" >&2; exit 1; fi');
  return `${out.join('\n')}\n`;
}
