#!/usr/bin/env node
// `node train.js …` is `comi train …`: the compiled CLI in dist/ (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
const entry = new URL('./dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('train.js: not built yet — run `npm install` (or `npm run build`) in the project folder first\n');
  process.exit(1);
}
process.argv.splice(2, 0, 'train');
await import(entry.href);
