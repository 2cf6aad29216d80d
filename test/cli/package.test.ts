import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { materialize, removeTree } from '../support/sysroot.js';

let dir: string;
let tree: string;
let bin: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rootlet-pack-'));
  tree = await materialize('fedora');
  await execa('npm', ['pack', '--silent', '--pack-destination', dir]);
  const [tarball] = (await readdir(dir)).filter((name) => name.endsWith('.tgz'));
  await execa('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefix', path.join(dir, 'app'), path.join(dir, tarball!)]);
  bin = path.join(dir, 'app/node_modules/.bin/rootlet');
}, 120_000);
afterAll(async () => Promise.all([rm(dir, { recursive: true, force: true }), removeTree(tree)]));

it('ships only the bundle and runs after a production-only install', async () => {
  const files = await readdir(path.join(dir, 'app/node_modules/rootlet'), { recursive: true });
  expect(files.filter((file) => file.startsWith('src') || file.startsWith('test'))).toEqual([]);
  const version = await execa(bin, ['--version']);
  expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\nKubernetes v\d+\.\d+\.\d+ \(node image from docker\.io\/kindest\/node:v[\d.]+@sha256:[0-9a-f]{64}\)\nflannel v[\d.]+$/);
  const doctor = await execa(bin, ['doctor', '--sysroot', tree, '--user', 'alice', '--json'], { reject: false });
  expect(doctor.exitCode).toBe(0);
  expect((JSON.parse(doctor.stdout) as { hosts: unknown[] }).hosts).toHaveLength(1);
});
