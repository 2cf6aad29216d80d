// Prints the suite's closing line, "tests: N passed, N failed, N skipped", from vitest's JSON report.
// In CI a skipped test of the engine suite is a failure: it means the rootless engines were not there.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`);
const engineSkips = report.testResults
  .filter((file) => file.name.includes('/test/engine/'))
  .flatMap((file) => file.assertionResults.filter((test) => test.status !== 'passed' && test.status !== 'failed').map((test) => test.fullName));
const engineTests = report.testResults.filter((file) => file.name.includes('/test/engine/')).flatMap((file) => file.assertionResults).length;
let ok = report.success;
if (process.env.CI && (engineSkips.length > 0 || engineTests === 0)) {
  console.error(`CI: the engine suite must run on real rootless Podman and Docker; skipped: ${engineSkips.join('; ') || 'the whole suite'}`);
  ok = false;
}
process.exitCode = ok ? 0 : 1;
