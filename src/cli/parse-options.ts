import type { z } from 'zod';
import { UsageError } from '../errors.js';

/** Validates a command's parsed flags; the first problem becomes a one-line usage error. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const flag = issue.path.map((part) => `--${String(part).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(' ');
  throw new UsageError(`${flag}: ${issue.message}`, 'See rootlet --help for the accepted values.');
}
