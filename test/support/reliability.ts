/**
 * The reliability figures the suite reports (README, "Reliability"): each fault a test injects for real and each bad
 * input it tries is counted here, with whether rootlet survived it (nothing lost, a clear error, the right exit code).
 * Lines go to .vitest/reliability.jsonl (one JSON object per line, appended by any test file, any worker);
 * scripts/test-summary.mjs prints the totals after the tests.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const FILE = path.resolve(import.meta.dirname, '../../.vitest/reliability.jsonl');

export type Tally = 'fault' | 'bad-input';

/** Counts one injected fault or bad input; `survived` is what the test asserted (call it after the assertions). */
export function tally(kind: Tally, what: string, survived = true): void {
  mkdirSync(path.dirname(FILE), { recursive: true });
  appendFileSync(FILE, `${JSON.stringify({ kind, what, survived })}\n`);
}
