// Prints the suite's closing line, "tests: N passed, N failed, N skipped", from vitest's JSON report.
// In CI any skipped test is a failure: no test skips for a good reason, and the engine and built-CLI tests
// skip only when the rootless engines were not there. An engine suite that did not run at all fails too.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`);
const skipped = report.testResults.flatMap((file) =>
  file.assertionResults.filter((test) => test.status !== 'passed' && test.status !== 'failed').map((test) => test.fullName),
);
const countIn = (dir) => report.testResults.filter((file) => file.name.includes(dir)).flatMap((file) => file.assertionResults).length;
const missing = ['/test/engine/', '/test/e2e/'].filter((dir) => countIn(dir) === 0);
// The reliability figures (test/support/reliability.ts): faults injected for real and bad inputs tried.
const tallies = path.join(path.dirname(process.argv[2]), 'reliability.jsonl');
if (existsSync(tallies)) {
  const lines = readFileSync(tallies, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const of = (kind) => lines.filter((line) => line.kind === kind);
  const survived = (kind) => of(kind).filter((line) => line.survived).length;
  console.log(
    `reliability: ${of('fault').length} faults injected, ${survived('fault')} survived with nothing lost; ` +
      `${of('bad-input').length} bad inputs tried, ${survived('bad-input')} refused with a one-line error`,
  );
}
let ok = report.success;
if (process.env.CI && (skipped.length > 0 || missing.length > 0)) {
  console.error(
    `CI: every test must run (the engine and end-to-end tests on real rootless Podman and Docker); skipped: ${skipped.join('; ') || `the whole of ${missing.join(', ')}`}`,
  );
  ok = false;
}
process.exitCode = ok ? 0 : 1;
