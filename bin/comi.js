#!/usr/bin/env node
// The `comi` command: compiled CLI in dist/ (built by `npm install` / `npm run build`), run through the launcher
// that keeps Dawn's native warnings off stderr (src/cli/launch.ts).
import { existsSync } from 'node:fs';
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('comi: not built yet — run `npm install` (or `npm run build`) in the project folder first\n');
  process.exit(1);
}
const { launch } = await import(new URL('../dist/src/cli/launch.js', import.meta.url).href);
await launch(entry, process.argv.slice(2));
