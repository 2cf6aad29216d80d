import { Readable } from 'node:stream';
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

/** The content of the first regular file in a tar stream (the engine's archive GET answers with one). */
export async function firstFile(stream: NodeJS.ReadableStream): Promise<Buffer | undefined> {
  const extract = tar.extract();
  let found: Buffer | undefined;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, entry, next) => {
      if (found === undefined && header.type === 'file') {
        void buffer(entry).then((content) => {
          found = content;
          next();
        }, reject);
      } else {
        entry.resume();
        entry.on('end', next);
      }
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from(stream as AsyncIterable<Buffer>).pipe(extract);
  await done;
  return found;
}
