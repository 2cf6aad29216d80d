import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const HOSTS = path.resolve(import.meta.dirname, '../fixtures/hosts');

interface Scenario {
  base?: string;
  about: string;
  remove?: string[];
  nodes?: Record<string, { char?: [number, number]; mode: string }>;
  noNodes?: string[];
}

async function scenario(name: string): Promise<Scenario> {
  return JSON.parse(await readFile(path.join(HOSTS, name, 'scenario.json'), 'utf8')) as Scenario;
}

/**
 * Builds a fixture host tree in a fresh temporary directory: the base scenarios' trees, then this one's
 * overlay, deletions, and what git cannot hold (device nodes, setuid bits). Returns its path.
 */
export async function materialize(name: string): Promise<string> {
  const chain: string[] = [];
  for (let current: string | undefined = name; current; current = (await scenario(current)).base) chain.unshift(current);
  const root = await mkdtemp(path.join(tmpdir(), `rootlet-${name}-`));
  const nodes = new Map<string, NonNullable<Scenario['nodes']>[string]>();
  for (const step of chain) {
    const spec = await scenario(step);
    // A scenario that only removes things has no tree/ (git keeps no empty directories).
    const overlay = path.join(HOSTS, step, 'tree');
    if (existsSync(overlay)) await cp(overlay, root, { recursive: true, force: true });
    for (const gone of spec.remove ?? []) await rm(path.join(root, gone), { recursive: true, force: true });
    for (const [file, node] of Object.entries(spec.nodes ?? {})) nodes.set(file, node);
    for (const file of spec.noNodes ?? []) nodes.delete(file);
  }
  for (const [file, node] of nodes) {
    const target = path.join(root, file);
    if (node.char) {
      await execa('mkdir', ['-p', path.dirname(target)]);
      await execa('mknod', [target, 'c', String(node.char[0]), String(node.char[1])]);
    }
    await chmod(target, Number.parseInt(node.mode, 8));
  }
  return root;
}

export async function removeTree(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

export const SCENARIOS_DIR = HOSTS;
