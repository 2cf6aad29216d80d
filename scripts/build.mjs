// Bundles the CLI into dist/rootlet.js; each command's module is a lazily imported chunk beside it.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/** `import text from './file?raw'`: the file's content as a string, as Vite (and so vitest) does. */
const rawText = {
  name: 'raw-text',
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, (args) => ({ path: path.resolve(args.resolveDir, args.path.replace(/\?raw$/, '')), namespace: 'raw-text' }));
    build.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({ contents: await readFile(args.path, 'utf8'), loader: 'text' }));
  },
};

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
  // Bundled CommonJS dependencies expect require, __filename and __dirname.
  banner: {
    js: [
      "import { createRequire as __rootletRequire } from 'node:module';",
      "import { fileURLToPath as __rootletPath } from 'node:url';",
      'const require = __rootletRequire(import.meta.url);',
      'const __filename = __rootletPath(import.meta.url);',
      "const __dirname = __rootletPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  minifySyntax: true,
  legalComments: 'none',
  // ssh2 (under dockerode's modem) loads these native addons in try/catch and falls back to pure JavaScript.
  external: ['*.node', 'cpu-features'],
  plugins: [rawText],
  logLevel: 'warning',
});
