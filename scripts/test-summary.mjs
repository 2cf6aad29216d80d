// Prints the suite's closing line, "tests: N passed, N failed, N skipped", from vitest's JSON report.
// In CI any skipped test is a failure: no test skips for a good reason, and the engine and built-CLI tests
// skip only when the rootless engines were not there. An engine suite that did not run at all fails too.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`);
const skipped = report.testResults.flatMap((file) =>
  file.assertionResults.filter((test) => test.status !== 'passed' && test.status !== 'failed').map((test) => test.fullName),
);
const countIn = (dir) => report.testResults.filter((file) => file.name.includes(dir)).flatMap((file) => file.assertionResults).length;
const missing = ['/test/engine/', '/test/e2e/'].filter((dir) => countIn(dir) === 0);
let ok = report.success;
if (process.env.CI && (skipped.length > 0 || missing.length > 0)) {
  console.error(
    `CI: every test must run (the engine and end-to-end tests on real rootless Podman and Docker); skipped: ${skipped.join('; ') || `the whole of ${missing.join(', ')}`}`,
  );
  ok = false;
}
process.exitCode = ok ? 0 : 1;
