import { STATUSES, type Status } from '../doctor/finding.js';
import type { HostReport } from '../doctor/run.js';

type Paint = (style: 'red' | 'yellow' | 'green' | 'gray' | 'bold', text: string) => string;

const LABEL: Record<Status, { text: string; style: 'red' | 'yellow' | 'green' | 'gray' }> = {
  fail: { text: 'FAIL', style: 'red' },
  warn: { text: 'WARN', style: 'yellow' },
  pass: { text: 'ok  ', style: 'green' },
  skip: { text: 'skip', style: 'gray' },
};

/** The human doctor report: findings grouped by status, failures first, each with its fix. */
export function renderDoctorTable(report: HostReport, paint: Paint = (_s, text) => text): string {
  const width = Math.max(...report.findings.map((finding) => finding.id.length));
  const lines = [paint('bold', `rootlet doctor: host ${report.host}, user ${report.user}`), ''];
  for (const status of STATUSES) {
    for (const finding of report.findings.filter((f) => f.status === status)) {
      const label = LABEL[status];
      lines.push(`${paint(label.style, label.text)}  ${finding.id.padEnd(width)}  ${finding.summary}`);
      if (finding.remedy && status !== 'pass') lines.push(`${' '.repeat(width + 8)}${paint('gray', `fix: ${finding.remedy}`)}`);
    }
  }
  const count = (status: Status) => report.findings.filter((finding) => finding.status === status).length;
  lines.push('', `${count('fail')} failed, ${count('warn')} warnings, ${count('pass')} passed, ${count('skip')} skipped.`);
  if (report.findings.some((finding) => finding.fix && finding.status !== 'pass')) {
    lines.push('Root can fix some of these: rootlet doctor --fix-script > rootlet-fix.sh, review it, then: sudo sh rootlet-fix.sh');
  }
  return `${lines.join('\n')}\n`;
}
