import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import tar from 'tar-stream';

export interface ArchiveEntry {
  /** Path inside the archive, relative (no leading slash). */
  name: string;
  content: Uint8Array | string;
  mode?: number;
}

/** A tar archive of the given files, for the engine's archive and build APIs. */
export async function packArchive(entries: readonly ArchiveEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    pack.entry({ name: entry.name, mode: entry.mode ?? 0o644, mtime: new Date(0) }, Buffer.from(entry.content));
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
