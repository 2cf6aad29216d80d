import type { Engine } from '../../src/engine/engine.js';
import { packArchive } from '../../src/engine/archive.js';

/**
 * A small application image in a user's engine, as a developer builds one before `rootlet load`: FROM scratch plus
 * one file, so each `content` gives another image id. Returns the engine's id (hex).
 */
export async function buildAppImage(engine: Engine, tag: string, content: string): Promise<string> {
  const context = await packArchive([
    { name: 'Dockerfile', content: 'FROM scratch\nCOPY app.txt /app.txt\n' },
    { name: 'app.txt', content },
  ]);
  await engine.buildImage(context, tag);
  const image = await engine.inspectImage(tag);
  if (!image) throw new Error(`the engine built ${tag} but does not list it`);
  return image.id;
}
