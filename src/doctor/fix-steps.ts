import path from 'node:path';
import { shellLine, shellQuote } from '../host/shell-quote.js';

/**
 * What `doctor --fix-script` does for one finding: shell lines for root, each idempotent.
 * Files are written under "$ROOT" (empty for this host, the --sysroot otherwise);
 * steps that change the running system are skipped when ROOT is set.
 */
export interface Fix {
  /** Fixes with the same key are written once. */
  key: string;
  /** One comment line per shell line or group of lines. */
  lines: string[];
  /** Printed when the script has run: what the user still has to do (re-login, reboot). */
  after?: string;
  /** Sets something up for the checked account (sub-ids, linger, limits): never done for root. */
  forUser?: boolean;
}

/** One shell comment line, whatever the text holds: a newline from a host file must not end the comment. */
export function comment(text: string): string {
  return `# ${text.replace(/[\r\n]+/g, ' ')}`;
}

/** The human remedy for writing a file: the same path and content the fix script writes. */
export function fileRemedy(file: string, content: string): string {
  const printf = content.replace(/\n$/, '').replaceAll('\\', '\\\\').replaceAll("'", "'\\''").replaceAll('%', '%%').replaceAll('\n', '\\n');
  return `mkdir -p ${shellQuote(path.posix.dirname(file))} && printf '${printf}\\n' > ${shellQuote(file)}`;
}

const EOF_MARK = 'ROOTLET_EOF';

export function rooted(file: string): string {
  return `"$ROOT"${shellQuote(file)}`;
}

/** Replace a whole file with `content` (idempotent by construction). */
export function writeFile(file: string, content: string, why: string): string[] {
  if (content.split('\n').includes(EOF_MARK)) throw new Error(`file content contains ${EOF_MARK}`);
  return [`# ${why}`, `mkdir -p ${rooted(path.posix.dirname(file))}`, `cat > ${rooted(file)} <<'${EOF_MARK}'`, content.replace(/\n?$/, ''), EOF_MARK];
}

/**
 * A command that applies a change to the running system now, through the script's now() helper:
 * when it fails (no systemd, a container host) the script says so, goes on, and exits 1 at the end.
 */
export function applyNow(argv: readonly string[], why: string): string[] {
  return [comment(`${why} (skipped when ROOT is set: it acts on the running system)`), `[ -n "$ROOT" ] || now ${shellLine(argv)}`];
}

/** Persist sysctl settings in /etc/sysctl.d/FILE and apply them now. */
export function sysctlFix(key: string, file: string, settings: Record<string, string | number>, why: string): Fix {
  const path = `/etc/sysctl.d/${file}`;
  const content = Object.entries(settings)
    .map(([name, value]) => `${name} = ${value}`)
    .join('\n');
  return { key, lines: [...writeFile(path, `${content}\n`, why), ...applyNow(['sysctl', '-p', path], 'Apply them now')] };
}

/** `sysctl.d` content as a one-line remedy. */
export function sysctlRemedy(file: string, settings: Record<string, string | number>): string {
  const path = `/etc/sysctl.d/${file}`;
  const content = Object.entries(settings).map(([name, value]) => `${name} = ${value}\n`);
  return `as root: ${fileRemedy(path, content.join(''))}; sysctl -p ${path}`;
}
