// The layer rule of docs/architecture.md: every import in src/ and web/ goes to the importer's own layer or one below it,
// and no files import each other in a cycle (type-only imports are erased at run time, so they count for layers
// only). The layers are read from the ```layers block of that document.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

/** Path prefixes per layer, top layer first. */
function layers(): string[][] {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const block = /```layers\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/architecture.md has no ```layers block');
  return block[1].trim().split('\n').map((line) => line.split(/\s+/).filter((w) => /^(src|web)\//.test(w)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

interface Import {
  target: string;
  typeOnly: boolean;
}

/** Relative imports of each file under src/ and web/, as project paths. */
function importGraph(): Map<string, Import[]> {
  const graph = new Map<string, Import[]>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('web')]) {
    const text = readFileSync(join(root, file), 'utf8');
    const imports = [...text.matchAll(/(import|export)(\s+type)?\s[^;]*?from\s+'(\.{1,2}\/[^']+)'|import\s*\(\s*'(\.{1,2}\/[^']+)'/g)].map((m) => ({
      target: relative(root, resolve(root, dirname(file), m[3] ?? m[4])).replace(/\.js$/, '.ts'),
      typeOnly: m[2] !== undefined,
    }));
    graph.set(file, imports);
  }
  return graph;
}

/** Index of the layer a file belongs to (0 = top): the longest matching prefix decides. */
function layerOf(file: string, table: string[][]): number {
  let best = -1;
  let bestLength = -1;
  table.forEach((prefixes, i) => {
    for (const p of prefixes) {
      if ((file === p || (p.endsWith('/') && file.startsWith(p))) && p.length > bestLength) {
        best = i;
        bestLength = p.length;
      }
    }
  });
  return best;
}

function cycles(graph: Map<string, Import[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      found.push([...path.slice(path.indexOf(f)), f].join(' → '));
      return;
    }
    state.set(f, 'open');
    for (const i of graph.get(f) ?? []) if (!i.typeOnly) visit(i.target, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  return found;
}

describe('layers (docs/architecture.md)', () => {
  const table = layers();
  const graph = importGraph();

  it('places every source file in a layer', () => {
    expect([...graph.keys()].filter((f) => layerOf(f, table) < 0)).toEqual([]);
  });

  it('has no upward import', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const { target } of targets) {
        if (layerOf(target, table) < layerOf(file, table)) upward.push(`${file} imports ${target} (a layer above it)`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });
});
