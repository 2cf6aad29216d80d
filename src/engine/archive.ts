import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import tar from 'tar-stream';

export type ArchiveEntry =
  | { type?: 'file'; /** Path inside the archive, relative (no leading slash). */ name: string; content: Uint8Array | string; mode?: number }
  | { type: 'directory'; name: string; mode?: number }
  | { type: 'symlink'; name: string; target: string };

/** A tar archive of the given entries, for the engine's archive and build APIs. */
export async function packArchive(entries: readonly ArchiveEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    const mtime = new Date(0);
    if (entry.type === 'directory') pack.entry({ name: entry.name, type: 'directory', mode: entry.mode ?? 0o755, mtime });
    else if (entry.type === 'symlink') pack.entry({ name: entry.name, type: 'symlink', linkname: entry.target, mode: 0o777, mtime });
    else pack.entry({ name: entry.name, mode: entry.mode ?? 0o644, mtime }, Buffer.from(entry.content));
  }
  pack.finalize();
  return buffer(pack);
}

/** The content of the archive's first entry when it is a regular file named `name` (a GET of one file's path). */
export async function firstFile(stream: NodeJS.ReadableStream, name: string): Promise<Buffer | undefined> {
  const extract = tar.extract();
  let found: Buffer | undefined;
  let first = true;
  extract.on('entry', (header, entry, next) => {
    const wanted = first && header.type === 'file' && header.name.replace(/^\.?\//, '') === name;
    first = false;
    if (!wanted) {
      entry.resume();
      entry.on('end', next);
      return;
    }
    buffer(entry).then((content) => {
      found = content;
      next();
    }, next);
  });
  // pipeline: a source that breaks mid-transfer rejects instead of leaving the extraction waiting forever.
  await pipeline(Readable.from(stream as AsyncIterable<Buffer>), extract);
  return found;
}
