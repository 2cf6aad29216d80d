import { createHash } from 'node:crypto';
import dockerfile from '../../templates/node-image/Dockerfile?raw';
import { ExitCode, RootletError } from '../errors.js';
import { packArchive } from './archive.js';
import type { Engine, ProgressOptions } from './engine.js';
import { engineName } from './errors.js';
import { NODE_KUBERNETES_VERSION } from '../pins.js';

/** The default node image: rootlet's own, built locally from the template, named after its content. */
export function defaultNodeImage(): string {
  return `localhost/rootlet-node:${NODE_KUBERNETES_VERSION}-${createHash('sha256').update(dockerfile).digest('hex').slice(0, 8)}`;
}

export interface ImageRecipe {
  /** A tar build context with a Dockerfile at its root. */
  context: () => Promise<Uint8Array>;
  /** The image the build starts from, which the engine has to fetch. */
  base?: string;
}

export async function defaultNodeImageRecipe(): Promise<ImageRecipe> {
  const base = /^FROM\s+(\S+)/m.exec(dockerfile)?.[1];
  return { context: () => packArchive([{ name: 'Dockerfile', content: dockerfile }]), ...(base ? { base } : {}) };
}

/**
 * The image is on the engine afterwards: present already; else built from its recipe (rootlet's own images,
 * which no registry has and which must never be pulled by name); else pulled.
 */
export async function ensureImage(
  engine: Engine,
  image: string,
  recipe: ImageRecipe | undefined,
  options: ProgressOptions = {},
): Promise<'present' | 'built' | 'pulled'> {
  if (await engine.hasImage(image)) return 'present';
  try {
    if (recipe) {
      await engine.buildImage(await recipe.context(), image, options);
      return 'built';
    }
    await engine.pullImage(image, options);
    return 'pulled';
  } catch (error) {
    // An engine that died or a Ctrl-C is not a missing image.
    if (error instanceof RootletError && (error.exitCode === ExitCode.engine || error.exitCode === ExitCode.interrupted)) throw error;
    const detail = error instanceof RootletError ? error.message : String(error);
    const what = recipe ? `built${recipe.base ? ` from ${recipe.base}` : ''}` : 'pulled';
    throw new RootletError('image-unavailable', `node image ${image} is not on ${engineName(engine.info)} and could not be ${what}: ${detail}`, {
      hint: `on a machine with registry access: ${engine.info.kind} pull (or build) it, then ${engine.info.kind} save IMAGE | ${engine.info.kind} load here; or pass --image with an image this engine has`,
      cause: error,
    });
  }
}
