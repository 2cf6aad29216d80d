/**
 * Broken and hostile cluster files. The corpus (test/fixtures/cluster-files/broken) carries each file's expectation in
 * its leading comment: `# expect: LINE:COL path: message` per problem in file order (a prefix of the message), an
 * optional `# hint: text` under it (part of that problem's hint), and `# exit: N`. Inputs too large to keep in the
 * repository are made here. Every one must be refused as one ClusterFileError with positions, soon, with nothing of
 * the input able to reach a terminal unescaped.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { MAX_PROBLEMS, MAX_YAML_BYTES } from '../../src/config/bounded-yaml.js';
import { ClusterFileError, loadClusterFile } from '../../src/config/load-cluster-file.js';
import { loadClusterFileFrom } from '../../src/cli/cluster-flags.js';
import { ExitCode } from '../../src/errors.js';
import { LocalHost } from '../../src/host/local-host.js';
import { tally } from '../support/reliability.js';

const CORPUS = fileURLToPath(new URL('../fixtures/cluster-files/broken', import.meta.url));
const HEADER = 'apiVersion: rootlet.dev/v1alpha1\nkind: Cluster\n';
/** Generous on a loaded machine; the slowest input known takes under a second. */
const SOON_MS = 3000;

interface Expectation {
  problems: Array<{ text: string; hint?: string }>;
  exit: number;
}

/** The leading `#` lines, read as Latin-1 so that a file which is not UTF-8 still has a readable header. */
function expectationOf(name: string, bytes: Buffer): Expectation {
  const problems: Expectation['problems'] = [];
  let exit: number | undefined;
  for (const line of bytes.toString('latin1').split('\n')) {
    if (!line.startsWith('#')) break;
    const [, key, value] = /^# (expect|hint|exit): (.*)$/.exec(line) ?? [];
    if (key === 'expect') problems.push({ text: value! });
    else if (key === 'hint') {
      const last = problems.at(-1);
      if (!last) throw new Error(`${name}: a hint before any expect`);
      last.hint = value!;
    } else if (key === 'exit') exit = Number(value);
  }
  if (problems.length === 0 || exit === undefined) throw new Error(`${name}: the header needs # expect: and # exit: lines`);
  return { problems, exit };
}

function refusal(run: () => unknown): ClusterFileError {
  try {
    run();
  } catch (error) {
    if (error instanceof ClusterFileError) return error;
    throw error;
  }
  throw new Error('expected a ClusterFileError, but the file was accepted');
}

async function refusalOf(run: () => Promise<unknown>): Promise<ClusterFileError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ClusterFileError) return error;
    throw error;
  }
  throw new Error('expected a ClusterFileError, but the file was accepted');
}

/** What the CLI prints for the error, and what --json carries: no control character of the input may be in it. */
function printed(error: ClusterFileError): string[] {
  return [error.message, ...error.details, error.hint ?? '', ...error.problems.flatMap((problem) => [problem.path, problem.message, problem.hint ?? ''])];
}

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
let tried = 0;
/** One bad input tried: counted for the README's reliability figures once the test has passed or failed. */
function tried1(what: string): void {
  tried++;
  onTestFinished(({ task }) => tally('bad-input', `cluster file: ${what}`, task.result?.state === 'pass'));
}

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

const files = readdirSync(CORPUS).sort();

afterAll(() => {
  console.log(`bad inputs tried: ${tried} (${files.length} files in ${path.relative(process.cwd(), CORPUS)}, ${tried - files.length} made by the test)`);
});

describe('the corpus of broken cluster files', () => {
  it('is large enough to mean something, every file with its expectation', async () => {
    expect(files.length).toBeGreaterThanOrEqual(50);
    for (const name of files) expectationOf(name, await readFile(path.join(CORPUS, name)));
  });

  it.each(files)('%s: refused as its comment says', async (name) => {
    const file = path.join(CORPUS, name);
    const bytes = await readFile(file);
    const expected = expectationOf(name, bytes);
    const { result: error, ms } = timed(() => refusal(() => loadClusterFile(file, bytes)));
    tried1(name);
    expect(error.exitCode).toBe(expected.exit);
    expect(ms).toBeLessThan(SOON_MS);
    const got = error.problems.map((problem) => `${problem.line}:${problem.col} ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`);
    expect(got).toHaveLength(expected.problems.length);
    expected.problems.forEach(({ text, hint }, index) => {
      expect(got[index]!.startsWith(text), `problem ${index + 1}:\n  got      ${got[index]}\n  expected ${text}`).toBe(true);
      if (hint !== undefined) expect(error.problems[index]!.hint).toContain(hint);
    });
    // One line per problem, each naming the file and its position; the hints under them.
    if (error.problems.length === 1) expect(error.message.slice(file.length)).toMatch(/^:\d+:\d+: /);
    else expect(error.details.filter((line) => line.startsWith(`${file}:`))).toHaveLength(error.problems.length);
    for (const line of printed(error)) expect(line).not.toMatch(CONTROL);
  });
});

describe('hostile inputs made by the test', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-corpus-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('refuses a 50 MiB file by its size, before reading it', async () => {
    const file = path.join(dir, 'huge.yaml');
    const handle = await open(file, 'w');
    const block = Buffer.from(`${HEADER}${'name: dev\n'.repeat(100_000)}`);
    for (let written = 0; written < 50 * 1024 * 1024; written += block.byteLength) await handle.write(block);
    await handle.close();
    await truncate(file, 50 * 1024 * 1024);
    tried1(expect.getState().currentTestName ?? 'generated');
    const start = performance.now();
    const error = await refusalOf(() => loadClusterFileFrom(new LocalHost(), file));
    expect(performance.now() - start).toBeLessThan(SOON_MS);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(`${file}:1:1: the file is 50.0 MiB: a cluster file is at most 128 KiB`);
  });

  it('never reads a file past the limit: an 8 GiB sparse file is refused as fast (reading it would fail otherwise)', async () => {
    const file = path.join(dir, 'sparse.yaml');
    await writeFile(file, HEADER);
    await truncate(file, 8 * 1024 ** 3);
    tried1(expect.getState().currentTestName ?? 'generated');
    const error = await refusalOf(() => loadClusterFileFrom(new LocalHost(), file));
    expect(error.message).toBe(`${file}:1:1: the file is 8.0 GiB: a cluster file is at most 128 KiB`);
  });

  it('stops reading standard input (-f -) one chunk past the limit, however long it goes on', async () => {
    let chunks = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        chunks++;
        yield Buffer.alloc(64 * 1024, 'a');
      }
    }
    tried1(expect.getState().currentTestName ?? 'generated');
    const error = await refusalOf(() => loadClusterFileFrom(new LocalHost(), '-', { stdin: endless() }));
    expect(error.message).toMatch(/^<stdin>:1:1: the file is \d+ KiB: a cluster file is at most 128 KiB$/);
    expect(chunks).toBe(Math.floor(MAX_YAML_BYTES / (64 * 1024)) + 1);
  });

  /** YAML written to be slow or large, each just under the size limit. */
  const fill = (prefix: string, unit: (index: number) => string): string => {
    let text = prefix;
    for (let index = 0; ; index++) {
      const next = unit(index);
      if (Buffer.byteLength(text + next) > MAX_YAML_BYTES) return text;
      text += next;
    }
  };
  const half = Math.floor(MAX_YAML_BYTES / 2) - 100;
  /** [what, the input, a line the error must print] */
  const generated: Array<[string, () => string, RegExp]> = [
    ['flow nesting to the limit', () => `${HEADER}nodes: ${'['.repeat(half)}${']'.repeat(half)}`, /nested too deeply to read|nested deeper than 64 levels/],
    ['block nesting to the limit', () => `${HEADER}nodes:\n${'- '.repeat(half - 100)}x\n`, /nested too deeply to read|nested deeper than 64 levels/],
    ['ten thousand unknown fields', () => fill(HEADER, (index) => `field${index}: x\n`), /^\/c\.yaml:\d+:\d+: field\d+: unknown field$/],
    ['a hundred thousand syntax errors', () => fill(HEADER, () => '- x\n'), /^\/c\.yaml:3:1: /],
    ['ten thousand duplicate keys', () => fill(HEADER, () => 'name: dev\n'), /name: is written twice \(first on line 3\)$/],
    ['ten thousand aliases of one anchor', () => fill(`${HEADER}nodes:\n  labels:\n    x: &a v\n    y:\n`, () => '      - *a\n'), /aliases expand to too much/],
    ['ten thousand hostile hosts', () => fill(`${HEADER}hosts:\n`, (index) => `  - {address: "n${index};id", user: "$(id)"}\n`), /invalid SSH host/],
    ['one line as long as the limit', () => `${HEADER}name: ${'a'.repeat(MAX_YAML_BYTES - 100)}\n`, /must be at most 40 characters/],
  ];

  it.each(generated)('refuses %s soon, listing at most the first problems', (_name, make, pattern) => {
    const text = make();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_YAML_BYTES);
    tried1(expect.getState().currentTestName ?? 'generated');
    const { result: error, ms } = timed(() => refusal(() => loadClusterFile('/c.yaml', text)));
    expect(ms).toBeLessThan(SOON_MS);
    expect(error.problems.length).toBeLessThanOrEqual(MAX_PROBLEMS);
    expect(
      [error.message, ...error.details].filter((line) => pattern.test(line)),
      'no line says what was expected',
    ).not.toHaveLength(0);
    if (error.problems.length === MAX_PROBLEMS) expect(error.details.at(-1)).toMatch(/^\.\.\. and \d+ more$/);
  });
});
