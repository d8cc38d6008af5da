// Shards and manifests (src/correct/batch.ts) without a GPU: the split, crash-cut manifest lines, coverage.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseShard, shardOf, Manifest, manifestFile, readManifests, checkCoverage, sha256File, type ManifestEntry } from '../../src/correct/batch.js';
import { expandInputs } from '../../src/correct/files.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comi-batch-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (input: string, over: Partial<ManifestEntry> = {}): ManifestEntry => ({
  input, sha256: 'x', action: 'corrected', output: null, outputSha256: null, model: 'm', focus: null, measure: null, time: 't', host: 'h', ...over,
});

describe('shards', () => {
  it('parses K/N (0-based) and refuses anything else in one line', () => {
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    for (const bad of ['4/4', '1/0', '-1/4', '1', 'a/b', '1/2/3']) expect(() => parseShard(bad)).toThrow(new RegExp(`^shard must be K/N with 0 ≤ K < N \\(0-based\\), got '${bad}'$`));
  });

  it('split every key into exactly one shard, about evenly, and adding keys moves none', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `plate1/well_${i}.tif`);
    const counts = [0, 0, 0, 0];
    for (const k of keys) counts[shardOf(k, 4)]++;
    expect(counts.reduce((a, b) => a + b)).toBe(1000);
    for (const c of counts) expect(c).toBeGreaterThan(200);
    const before = keys.map((k) => shardOf(k, 4));
    expect([...keys, 'plate1/new.tif'].slice(0, 1000).map((k) => shardOf(k, 4))).toEqual(before);
  });

  it('keys are paths relative to the folder or glob root, the same wherever the data is mounted', () => {
    for (const root of ['a', 'b']) {
      mkdirSync(join(dir, root, 'plate', 'w1'), { recursive: true });
      writeFileSync(join(dir, root, 'plate', 'w1', 'x.png'), '');
      writeFileSync(join(dir, root, 'plate', 'y.png'), '');
    }
    const a = expandInputs([join(dir, 'a', 'plate'), `${join(dir, 'a', 'plate')}/**/*.png`]);
    expect(a.keys).toEqual(['y.png', 'w1/x.png']);
    expect(expandInputs([join(dir, 'b', 'plate')]).keys).toEqual(['y.png']);
  });
});

describe('manifests', () => {
  it('append whole lines; a line cut by a crash is ignored and cut off before the next append', () => {
    const path = manifestFile(join(dir, 'm1'), { index: 2, count: 16 });
    expect(path).toMatch(/shard-0002-of-0016\.jsonl$/);
    const m = new Manifest(path);
    m.append(entry('a.png'));
    m.append(entry('b.png'));
    appendFileSync(path, '{"input":"c.png","sha2'); // killed mid-write
    const resumed = new Manifest(path);
    expect(resumed.entries.map((e) => e.input)).toEqual(['a.png', 'b.png']);
    resumed.append(entry('c.png'));
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).input)).toEqual(['a.png', 'b.png', 'c.png']);
  });

  it('coverage: missing, duplicated, unknown inputs and missing or changed outputs are all reported', () => {
    const out = join(dir, 'out');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'a.png'), 'A');
    writeFileSync(join(out, 'b.png'), 'B');
    const good = [entry('a.png', { output: 'a.png', outputSha256: sha256File(join(out, 'a.png')) }), entry('b.png', { action: 'sharp' })];
    expect(checkCoverage(['a.png', 'b.png'], good, out)).toEqual({ inputs: 2, lines: 2, missing: [], duplicated: [], unknown: [], badOutputs: [] });
    const bad = [...good, entry('a.png'), entry('z.png'), entry('b.png', { output: 'b.png', outputSha256: 'other' }), entry('c.png', { output: 'gone.png' })];
    const r = checkCoverage(['a.png', 'b.png', 'c.png', 'd.png'], bad, out);
    expect(r).toMatchObject({ missing: ['d.png'], duplicated: ['a.png', 'b.png'], unknown: ['z.png'], badOutputs: ['b.png', 'gone.png'] });
  });

  it('reading a folder without manifests, or a corrupt line, fails in one line', () => {
    expect(() => readManifests(join(dir, 'none'))).toThrow(/^manifest folder .*none does not exist$/);
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad', 'shard-0000-of-0001.jsonl'), '{"input":"a"}\nnot json\n');
    expect(() => readManifests(join(dir, 'bad'))).toThrow(/shard-0000-of-0001\.jsonl: line 2 is not JSON$/);
  });
});
