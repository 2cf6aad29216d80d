/** Exit codes of the CLI contract (../shared/DESIGN.md). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  hostNotReady: 3,
  engine: 4,
  ssh: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface RootletErrorOptions {
  /** The next step for the user, one line. */
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
  /** Lines under the error, one per item it is about (the failed checks of a host, say). */
  details?: string[];
}

/**
 * Every failure a user can cause. Only the CLI entry catches these; it prints
 * `error:` and `hint:` and exits with `exitCode`.
 */
export class RootletError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(code: string, message: string, options: RootletErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RootletError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  toJSON(): { code: string; message: string; hint?: string; details?: string[]; exitCode: number } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.details.length === 0 ? {} : { details: [...this.details] }),
      exitCode: this.exitCode,
    };
  }
}

/** The command's AbortSignal fired (Ctrl-C, SIGTERM): exit 130, after cleanup. */
export function interrupted(cause?: unknown): RootletError {
  return new RootletError('interrupted', 'interrupted', { exitCode: ExitCode.interrupted, ...(cause === undefined ? {} : { cause }) });
}

/** Anything thrown, as the one-line error a user sees: an unexpected one says how to report it. */
export function asRootletError(thrown: unknown): RootletError {
  if (thrown instanceof RootletError) return thrown;
  return new RootletError('internal', `internal error: ${thrown instanceof Error ? thrown.message : String(thrown)}`, {
    cause: thrown,
    hint: 'run again with --verbose for the stack trace, and report it',
  });
}

export function isAbort(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'AbortError';
}

export class UsageError extends RootletError {
  constructor(message: string, hint?: string) {
    super('usage', message, { exitCode: ExitCode.usage, ...(hint === undefined ? {} : { hint }) });
  }
}
