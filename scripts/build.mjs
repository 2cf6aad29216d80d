// Bundles the CLI into dist/rootlet.js; each command's module is a lazily imported chunk beside it.
import { readFile, rm } from 'node:fs/promises';
import { build } from 'esbuild';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { rootlet: 'src/rootlet.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  chunkNames: 'chunks/[name]-[hash]',
  define: { ROOTLET_VERSION: JSON.stringify(pkg.version) },
  banner: { js: "import { createRequire as __rootletRequire } from 'node:module'; const require = __rootletRequire(import.meta.url);" },
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});
