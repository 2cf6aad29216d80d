// Start-up benchmark: `rootlet --version` and a local `rootlet doctor --no-engine` against bare `node -e 0`,
// interleaved in the same run. Targets (issue 2): --version within 1.5x of node, doctor within 3x.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/rootlet.js', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 30);
const subjects = [
  { name: 'node -e 0', argv: ['-e', '0'] },
  { name: 'rootlet --version', argv: [cli, '--version'], target: 1.5 },
  { name: 'rootlet doctor --no-engine --json', argv: [cli, 'doctor', '--no-engine', '--json'], target: 3 },
];

function once(argv) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { stdio: 'ignore' });
  if (result.error) throw result.error;
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const times = subjects.map(() => []);
for (const subject of subjects) once(subject.argv); // warm the page cache and the compile cache
for (let i = 0; i < runs; i++) subjects.forEach((subject, index) => times[index].push(once(subject.argv)));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const base = median(times[0]);
console.log(`node ${process.version}, ${runs} interleaved runs each, median wall time`);
for (const [index, subject] of subjects.entries()) {
  const ms = median(times[index]);
  const ratio = ms / base;
  const verdict = subject.target ? ` (target ${subject.target}x: ${ratio <= subject.target ? 'met' : 'MISSED'})` : '';
  console.log(`${subject.name.padEnd(36)} ${ms.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2)}x${verdict}`);
}
