#!/usr/bin/env node
// Embeds shaders/*.wgsl in src/graph/shaders.generated.ts, so the engine needs no file system at run time (the
// browser build). Run by `npm run build`, `prepare` and the test setup; the output is not committed.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'shaders');
const sources = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.wgsl')).sort()
  .map((f) => [f.slice(0, -'.wgsl'.length), readFileSync(join(dir, f), 'utf8')]));
const text = `// Generated from shaders/*.wgsl by scripts/gen-shaders.mjs: do not edit.\nexport const SHADERS: Readonly<Record<string, string>> = ${JSON.stringify(sources, null, 1)};\n`;
const out = join(root, 'src/graph/shaders.generated.ts');
// Unchanged output keeps its mtime (tsc --watch, vitest's module cache).
if (!existsSync(out) || readFileSync(out, 'utf8') !== text) writeFileSync(out, text);
