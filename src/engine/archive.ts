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
  return pickFile(stream, (entry, first) => first && entry === name);
}

/** The content of the regular file `name` anywhere in the archive (read to its end); undefined when it has none. */
export async function fileIn(stream: NodeJS.ReadableStream, name: string): Promise<Buffer | undefined> {
  return pickFile(stream, (entry) => entry === name);
}

/** The first regular file `wanted` accepts (by its name without ./, and whether it is the archive's first entry). */
async function pickFile(stream: NodeJS.ReadableStream, wanted: (name: string, first: boolean) => boolean): Promise<Buffer | undefined> {
  let found: Buffer | undefined;
  await eachFile(
    stream,
    (name, _size, first) => found === undefined && wanted(name, first),
    (_name, content) => (found = content),
  );
  return found;
}

/**
 * Reads a tar stream to its end, handing `take` the regular files `want` accepts (by name without ./, size, and
 * whether it is the first entry); everything else is skipped unread.
 */
export async function eachFile(
  stream: NodeJS.ReadableStream,
  want: (name: string, size: number, first: boolean) => boolean,
  take: (name: string, content: Buffer) => void,
): Promise<void> {
  const extract = tar.extract();
  let first = true;
  extract.on('entry', (header, entry, next) => {
    const name = header.name.replace(/^\.?\//, '');
    const wanted = header.type === 'file' && want(name, header.size ?? 0, first);
    first = false;
    if (!wanted) {
      entry.resume();
      entry.on('end', next);
      return;
    }
    buffer(entry).then((content) => {
      take(name, content);
      next();
    }, next);
  });
  // pipeline: a source that breaks mid-transfer rejects instead of leaving the extraction waiting forever.
  await pipeline(Readable.from(stream as AsyncIterable<Buffer>), extract);
}
