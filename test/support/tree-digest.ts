import { createHash } from 'node:crypto';
import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Every path under root with its type, mode, owner and content hash: equal digests mean nothing changed. */
export async function treeDigest(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const info = await lstat(full);
      const rel = path.relative(root, full);
      const content = info.isFile()
        ? createHash('sha256')
            .update(await readFile(full))
            .digest('hex')
            .slice(0, 16)
        : '';
      out.push(`${rel} ${info.mode.toString(8)} ${info.uid}:${info.gid} ${content}`);
      if (info.isDirectory()) await walk(full);
    }
  }
  await walk(root);
  return out;
}
