const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One POSIX shell word for `value`, whatever it contains. The only quoting function in rootlet. */
export function shellQuote(value: string): string {
  if (value !== '' && SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A command line for a POSIX shell, every word quoted. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
