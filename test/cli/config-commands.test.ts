/**
 * The built CLI's cluster-file commands: `rootlet schema`, `rootlet up --print-config` (nothing is created), how -f
 * finds the file (-f -, ./rootlet.yaml) and how a broken one is reported.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadClusterFile, mergeClusterOptions } from '../../src/config/load-cluster-file.js';
import { rootlet } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('rootlet schema', () => {
  it('prints the JSON Schema committed as schema/cluster.schema.json', async () => {
    const result = await rootlet(['schema']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(readFileSync(path.join(ROOT, 'schema/cluster.schema.json'), 'utf8')));
  });
});

describe('rootlet up --print-config', () => {
  const full = path.join(ROOT, 'test/fixtures/cluster-files/full.yaml');

  it('prints defaults < file < flags as a cluster file and starts nothing', async () => {
    const result = await rootlet(['up', '--print-config', '-f', full, '--workers', '1', '--name', 'printed', '--wait', '90s']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const printed = parse(result.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ apiVersion: 'rootlet.dev/v1alpha1', kind: 'Cluster', name: 'printed', workers: 1, wait: '90s' });
    const expected = mergeClusterOptions(loadClusterFile(full, readFileSync(full, 'utf8')), { workers: 1, name: 'printed', wait: '90s' });
    expect(mergeClusterOptions(loadClusterFile('/srv/printed.yaml', result.stdout), {})).toEqual(expected);
  });

  it('refuses a bad merge as up would (exit 2), printing nothing on stdout', async () => {
    const result = await rootlet(['up', '--print-config', '--api-server-port', '10250']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--api-server-port');
  });
});

const BROKEN = path.join(ROOT, 'test/fixtures/cluster-files/broken');
const HEADER = 'apiVersion: rootlet.dev/v1alpha1\nkind: Cluster\n';

/** stderr is one error block: one `error:` line, problem lines (and their hints) indented under it, one `hint:` line; no stack trace. */
function expectOneErrorBlock(stderr: string): string[] {
  const lines = stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines.at(-1)).toMatch(/^hint: /);
  for (const line of lines.slice(1, -1)) expect(line).toMatch(/^ {2}(\S| {2}hint: )/);
  expect(stderr).not.toMatch(/^\s+at |RootletError|internal error/m);
  return lines;
}

describe('rootlet up -f with a broken or hostile file', () => {
  it.each([
    ['unknown-field-in-list.yaml', 'hosts[0].adress: unknown field', 'did you mean address?'],
    ['hostile-address-option.yaml', 'hosts[0].address: invalid SSH host "-oProxyCommand=touch /tmp/pwned"', 'write a host name'],
    ['alias-bomb.yaml', 'aliases expand to too much: rootlet limits aliases (*name) to 100 expanded nodes', 'write the values out'],
    ['binary.yaml', 'byte 0x89 is not UTF-8', 'save the file as UTF-8 text'],
    ['hostile-terminal-escapes.yaml', 'name: "\\u001b]0;owned\\u0007\\u001b[2J" is not a DNS label', 'fields allowed at the top level'],
  ])('%s: exit 2, one error block naming FILE:LINE:COL, nothing on stdout', async (name, problem, hint) => {
    const file = path.join(BROKEN, name);
    const result = await rootlet(['up', '-f', file, '--print-config']);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    const lines = expectOneErrorBlock(result.stderr);
    expect(lines.find((line) => line.includes(problem))).toMatch(new RegExp(`^(error: | {2})${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
    expect(result.stderr).toContain(hint);
    // Nothing of the input reaches the terminal unescaped.
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  });

  it('lists every problem of the file, one line each with its hint under it', async () => {
    const file = path.join(BROKEN, 'wrong-types.yaml');
    const result = await rootlet(['up', '-f', file, '--print-config']);
    expect(result.exitCode).toBe(2);
    const lines = expectOneErrorBlock(result.stderr);
    expect(lines[0]).toBe(`error: ${file}: 6 problems`);
    expect(lines.filter((line) => line.startsWith(`  ${file}:`))).toHaveLength(6);
    expect(lines).toContain(`  ${file}:14:10: workers: must be a whole number of local workers, not "2"`);
    expect(lines[lines.indexOf(`  ${file}:14:10: workers: must be a whole number of local workers, not "2"`) + 1]).toBe(
      '    hint: write the number without quotes: 2',
    );
  });

  it('carries the problems in --json', async () => {
    const file = path.join(BROKEN, 'unknown-fields-deep.yaml');
    const result = await rootlet(['up', '-f', file, '--print-config', '--json']);
    expect(result.exitCode).toBe(2);
    const { error } = JSON.parse(result.stdout) as { error: { code: string; file: string; problems: Array<{ line: number; path: string; hint: string }> } };
    expect(error).toMatchObject({ code: 'cluster-file', file, exitCode: 2 });
    expect(error.problems.map(({ line, path: at }) => `${line} ${at}`)).toEqual([
      '14 kubernetes.extraArgs.apiServer[0].nmae',
      '17 kubernetes.kubeadmConfigPatches[0].pach',
      '21 hosts[0].extraPortMappings[0].hostport',
    ]);
    expect(error.problems.map(({ hint }) => hint.slice(0, hint.indexOf('?') + 1))).toEqual([
      'did you mean name?',
      'did you mean patch?',
      'did you mean hostPort?',
    ]);
  });

  it('names a file it cannot read', async () => {
    const result = await rootlet(['up', '-f', '/nonexistent/rootlet.yaml', '--print-config']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      'error: cannot read the cluster file /nonexistent/rootlet.yaml: no such file\nhint: pass -f with the path of a cluster file, or - for standard input (see README, "Cluster file")\n',
    );
  });
});

describe('where -f comes from: -f -, ./rootlet.yaml', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rootlet-cli-config-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('up reads ./rootlet.yaml without -f, says so on stderr, and resolves its paths against its directory', async () => {
    const cwd = path.join(dir, 'discovered');
    await rm(cwd, { recursive: true, force: true });
    await mkdir(cwd);
    await writeFile(path.join(cwd, 'rootlet.yaml'), `${HEADER}name: found\ncni: {manifest: manifests/flannel.yml}\n`);
    const result = await rootlet(['up', '--print-config', '--workers', '1'], { cwd });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe('using ./rootlet.yaml\n');
    expect(parse(result.stdout)).toMatchObject({ name: 'found', workers: 1, cni: { name: 'flannel', manifest: path.join(cwd, 'manifests/flannel.yml') } });
  });

  it('up reads nothing and says nothing when there is no ./rootlet.yaml', async () => {
    const result = await rootlet(['up', '--print-config'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(parse(result.stdout)).toMatchObject({ name: 'rootlet' });
  });

  it('up -f - reads standard input, its relative paths from the working directory', async () => {
    const input = `${HEADER}name: piped\nhosts: [{address: node2, identity: keys/node2}]\n`;
    const result = await rootlet(['up', '-f', '-', '--print-config'], { cwd: dir, stdin: 'pipe', input });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(parse(result.stdout)).toMatchObject({ name: 'piped', hosts: [{ address: 'node2', identity: path.join(dir, 'keys/node2') }] });
  });

  it('up -f - names <stdin> in its errors', async () => {
    const result = await rootlet(['up', '-f', '-', '--print-config'], { cwd: dir, stdin: 'pipe', input: `${HEADER}wokers: 1\n` });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: <stdin>:3:1: wokers: unknown field\nhint: did you mean workers\? /);
  });

  it('join reads ./rootlet.yaml without -f too (its broken host is refused before any connection)', async () => {
    const cwd = path.join(dir, 'join');
    await mkdir(cwd, { recursive: true });
    await writeFile(path.join(cwd, 'rootlet.yaml'), `${HEADER}hosts: [{address: "node2;reboot"}]\n`);
    const result = await rootlet(['join'], { cwd });
    expect(result.exitCode).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('using ./rootlet.yaml');
    expectOneErrorBlock(lines.slice(1).join('\n'));
    expect(lines[1]).toBe(
      `error: rootlet.yaml:3:19: hosts[0].address: invalid SSH host "node2;reboot": a host name has only letters, digits, "-", "_" and dots, and starts with a letter or digit`,
    );
  });
});
