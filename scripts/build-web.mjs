#!/usr/bin/env node
// Builds the web app (web/) into dist/web/ with esbuild: app.js (the page's code) and comi.js (the engine's browser
// entry, src/browser.ts, for embedding in other tools) as minified ES modules sharing one chunk, the page, its
// style and the bundled demo model (models/fluorescence). Run by `npm run web` and the test setup.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist/web');
/** The demo model: a pretrained corrector shipped with the package. */
const DEMO_MODEL = 'models/fluorescence';

// Chunk names carry content hashes: start empty so that old chunks do not pile up.
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { app: join(root, 'web/app.ts'), comi: join(root, 'src/browser.ts') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  // jpeg-js's encoder returns Buffer.from(bytes) when it sees CommonJS (it does, bundled): a Uint8Array is the same.
  inject: [join(root, 'web/buffer-shim.js')],
  logLevel: 'warning',
});
mkdirSync(join(out, 'models/demo'), { recursive: true });
for (const f of ['index.html', 'app.css']) copyFileSync(join(root, 'web', f), join(out, f));
for (const f of ['generator.safetensors', 'config.json']) copyFileSync(join(root, DEMO_MODEL, f), join(out, 'models/demo', f));
