/** The built CLI's cluster-file commands: `rootlet schema` and `rootlet up --print-config` (nothing is created). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
