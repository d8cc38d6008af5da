import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImage, readImage, type Image } from '../../src/data/image.js';
import { fitNormalization, normalize } from '../../src/data/normalize.js';
import {
  loadDataset, splitDataset, saveSplit, loadSplit, selectKeys, createSampler, drawTransform, applyTransform,
  type Dataset, type Transform, type Augment,
} from '../../src/data/dataset.js';
import { Rng } from '../../src/data/rng.js';
import { hash32, hashUniform } from '../../src/graph/random.js';

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'data_io', 'manifest.json'), 'utf8'));
const DATA = join(process.cwd(), '..', 'shared', 'data');
const HAVE_DATA = existsSync(DATA);
if (!HAVE_DATA) console.warn(`dataset.test: ${DATA} absent, the BBBC006 test is skipped`);

function literal(e: { values: string }): Float32Array {
  const b = Buffer.from(e.values, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function gray8(width: number, height: number, seed: number): Image {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = hash32(i, seed);
  return { width, height, channels: 1, bitDepth: 8, data };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

let tmp: string;
let n = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'comi-ds-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh dataset folder: {relative path: image | raw bytes}. */
async function build(files: Record<string, Image | string>): Promise<string> {
  const root = join(tmp, `ds${n++}`);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    if (typeof content === 'string') writeFileSync(join(root, rel), content);
    else await writeImage(join(root, rel), content);
  }
  mkdirSync(root, { recursive: true });
  return root;
}

describe('layouts', () => {
  it('paired: matches file names across extensions, reports the unmatched, caches normalised planes', async () => {
    const u16: Image = { width: 20, height: 16, channels: 1, bitDepth: 16, data: new Uint16Array(320).map((_, i) => hash32(i, 9) & 0xfff) };
    const root = await build({
      'blurred/a.png': gray8(20, 16, 1), 'blurred/b.png': gray8(20, 16, 2), 'blurred/c.tif': u16, 'blurred/d.png': gray8(20, 16, 4),
      'sharp/a.tif': gray8(20, 16, 5), 'sharp/b.png': gray8(20, 16, 6), 'sharp/c.png': u16, 'sharp/e.png': gray8(20, 16, 7),
      'sharp/notes.txt': 'not an image', 'sharp/.hidden.png': 'ignored',
    });
    const ds = await loadDataset({ root, layout: 'paired', source: 'blurred', target: 'sharp' });
    expect(ds.pairs.map((p) => [p.key, p.source.file, p.target.file])).toEqual([
      ['a', 'blurred/a.png', 'sharp/a.tif'], ['b', 'blurred/b.png', 'sharp/b.png'], ['c', 'blurred/c.tif', 'sharp/c.png'],
    ]);
    expect(ds.unmatched).toEqual(['blurred/d.png', 'sharp/e.png']);
    expect(ds.keys).toEqual(['a', 'b', 'c']);
    // auto normalisation: 8-bit /255, 16-bit by percentiles; the cached planes are normalize() of the decoded file.
    const c = ds.pairs[2].source;
    expect(c.normalization.kind).toBe('percentile');
    expect(ds.pairs[0].source.normalization).toEqual({ kind: 'range', min: 0, max: 255 });
    const img = await readImage(join(root, 'blurred/c.tif'));
    expect(Array.from(c.planes)).toEqual(Array.from(normalize(img, fitNormalization(img, 'percentile'))));
  });

  it('zstack: planes pair with the in-focus plane by name, or by the index in the name; one decode per file', async () => {
    const root = await build({
      'Z004/Z4_1.png': gray8(12, 12, 1), 'Z004/Z4_2.png': gray8(12, 12, 2), 'Z004/Z4_9.png': gray8(12, 12, 3),
      'Z005/Z5_1.png': gray8(12, 12, 4), 'Z005/Z5_2.png': gray8(12, 12, 5),
      'Z007/Z7_1.png': gray8(12, 12, 6), 'Z007/Z7_2.png': gray8(12, 12, 7), 'Z007/Z7_3.png': gray8(12, 12, 8),
    });
    const ds = await loadDataset({ root, layout: 'zstack', inFocus: 'Z007' });
    expect(ds.pairs.map((p) => `${p.source.file}→${p.target.file}`)).toEqual([
      'Z004/Z4_1.png→Z007/Z7_1.png', 'Z004/Z4_2.png→Z007/Z7_2.png', 'Z005/Z5_1.png→Z007/Z7_1.png', 'Z005/Z5_2.png→Z007/Z7_2.png',
    ]);
    expect(ds.unmatched).toEqual(['Z004/Z4_9.png', 'Z007/Z7_3.png']);
    expect(ds.keys).toEqual(['Z7_1', 'Z7_2']);
    expect(ds.target.length).toBe(2);
    expect(ds.pairs[0].target).toBe(ds.pairs[2].target); // the same cached planes

    const named = await build({ 'z_00/f1.tif': gray8(9, 9, 1), 'z_16/f1.tif': gray8(9, 9, 2), 'z_33/f1.png': gray8(9, 9, 3) });
    const ds2 = await loadDataset({ root: named, layout: 'zstack', inFocus: 'z_16', planes: ['z_33'] });
    expect(ds2.pairs.map((p) => `${p.source.file}→${p.target.file}`)).toEqual(['z_33/f1.png→z_16/f1.tif']);
  });

  it('unpaired: two folders of any sizes, no matching; keys carry the folder', async () => {
    const root = await build({ 'A/x.png': gray8(30, 20, 1), 'A/y.png': gray8(25, 25, 2), 'A/z.png': gray8(40, 22, 3), 'B/w.tif': gray8(33, 21, 4) });
    const ds = await loadDataset({ root, layout: 'unpaired', source: 'A', target: 'B' });
    expect(ds.source.map((d) => d.file)).toEqual(['A/x.png', 'A/y.png', 'A/z.png']);
    expect(ds.target.map((d) => [d.file, d.width, d.height])).toEqual([['B/w.tif', 33, 21]]);
    expect(ds.pairs).toEqual([]);
    expect(ds.keys).toEqual(['A/x.png', 'A/y.png', 'A/z.png', 'B/w.tif']);
  });
});

describe('bad input gives one clear message', () => {
  let ok: string;
  beforeAll(async () => {
    ok = await build({ 'src/a.png': gray8(8, 8, 1), 'tgt/a.png': gray8(8, 8, 2), 'empty/readme.txt': 'x' });
  });
  const cases: Array<[string, () => Promise<unknown>, string | RegExp]> = [
    ['missing root', () => loadDataset({ root: join(tmp, 'nope'), layout: 'paired', source: 'a', target: 'b' }), /dataset folder .*nope does not exist/],
    ['root is a file', async () => loadDataset({ root: join(await build({ 'f.txt': 'x' }), 'f.txt'), layout: 'unpaired', source: 'a', target: 'b' }), 'is a file, not a folder'],
    ['unknown layout', () => loadDataset({ root: ok, layout: 'triplets' as never }), "unknown dataset layout 'triplets' (expected paired, zstack, unpaired)"],
    ['no folder names', () => loadDataset({ root: ok, layout: 'paired', source: 'src' }), 'paired layout needs source and target'],
    ['missing folder', () => loadDataset({ root: ok, layout: 'paired', source: 'src', target: 'sharp' }), /target folder .*sharp does not exist \(folders in .*: empty, src, tgt\)/],
    ['folder without images', () => loadDataset({ root: ok, layout: 'unpaired', source: 'src', target: 'empty' }), /target folder .*empty has no images \(\.png, \.jpg/],
    ['zstack without inFocus', () => loadDataset({ root: ok, layout: 'zstack' }), /zstack layout needs inFocus: .*\(folders in .*: empty, src, tgt\)/],
    ['in-focus plane among the inputs', () => loadDataset({ root: ok, layout: 'zstack', inFocus: 'tgt', planes: ['src', 'tgt'] }), 'the in-focus plane tgt cannot also be an input plane'],
    ['unknown plane', () => loadDataset({ root: ok, layout: 'zstack', inFocus: 'tgt', planes: ['Z099'] }), /plane folder .*Z099 does not exist/],
  ];
  for (const [name, run, message] of cases) it(name, async () => { await expect(run()).rejects.toThrow(message); });

  it('no matching names', async () => {
    const root = await build({ 's/a.png': gray8(8, 8, 1), 't/b.png': gray8(8, 8, 2) });
    await expect(loadDataset({ root, layout: 'paired', source: 's', target: 't' })).rejects.toThrow('no file in s has a partner of the same name in t (e.g. a.png vs b.png)');
  });
  it('names that differ only by extension', async () => {
    const root = await build({ 's/a.png': gray8(8, 8, 1), 's/a.tif': gray8(8, 8, 1), 't/a.png': gray8(8, 8, 2) });
    await expect(loadDataset({ root, layout: 'paired', source: 's', target: 't' })).rejects.toThrow('ambiguous names in s: a.png and a.tif differ only by extension');
  });
  it('pair sizes differ', async () => {
    const root = await build({ 's/a.png': gray8(8, 8, 1), 't/a.png': gray8(9, 8, 2) });
    await expect(loadDataset({ root, layout: 'paired', source: 's', target: 't' })).rejects.toThrow('pair sizes differ: s/a.png is 8×8, t/a.png is 9×8');
  });
  it('an unreadable image is named', async () => {
    const root = await build({ 's/a.png': gray8(8, 8, 1), 't/a.png': 'garbage' });
    await expect(loadDataset({ root, layout: 'paired', source: 's', target: 't' })).rejects.toThrow(`not supported: file format of ${join(root, 't/a.png')}`);
  });
  it('a domain mixing gray and RGB', async () => {
    const rgb: Image = { width: 8, height: 8, channels: 3, bitDepth: 8, data: new Uint8Array(192) };
    const root = await build({ 's/a.png': gray8(8, 8, 1), 's/b.png': rgb, 't/a.png': gray8(8, 8, 2) });
    await expect(loadDataset({ root, layout: 'unpaired', source: 's', target: 't' })).rejects.toThrow('source images mix channel counts: s/a.png has 1, s/b.png has 3');
  });
  it('a normalisation that does not fit an image', async () => {
    const u16: Image = { width: 8, height: 8, channels: 1, bitDepth: 16, data: new Uint16Array(64) };
    const root = await build({ 's/a.tif': u16, 't/a.png': gray8(8, 8, 2) });
    await expect(loadDataset({ root, layout: 'paired', source: 's', target: 't', normalization: '8bit' })).rejects.toThrow(/s\/a\.tif: fitNormalization: mode 8bit is for 8-bit images/);
  });
  it('a crop larger than an image', async () => {
    const root = await build({ 's/a.png': gray8(30, 30, 1), 't/b.png': gray8(30, 12, 2) });
    const ds = await loadDataset({ root, layout: 'unpaired', source: 's', target: 't' });
    expect(() => createSampler(ds, { size: 16 })).toThrow(/1 image\(s\) are smaller than the crop size 16, e\.g\. .*t\/b\.png \(30×12\); use a smaller crop size/);
    expect(() => createSampler(ds, { size: 0 })).toThrow('crop size must be a positive integer, got 0');
  });
});

describe('split', () => {
  const names = Array.from({ length: 23 }, (_, i) => `img${String(i).padStart(2, '0')}`);
  it('is reproducible from its seed, whatever the listing order, and 80/20', () => {
    const a = splitDataset(names, 7);
    expect(splitDataset([...names].reverse(), 7)).toEqual(a);
    expect(a.train.length).toBe(18); // round(23 · 0.8)
    expect(a.test.length).toBe(5);
    expect([...a.train, ...a.test].sort()).toEqual(names);
    expect(splitDataset(names, 8).test).not.toEqual(a.test);
    expect(splitDataset(names, 7, 0.5).train.length).toBe(12);
  });
  it('splits each domain of an unpaired set on its own and keeps a test image in a small group', () => {
    const keys = [...Array.from({ length: 10 }, (_, i) => `A/${i}.png`), 'B/only.png', 'B/two.png'];
    const s = splitDataset(keys, 1);
    expect(s.train.filter((k) => k.startsWith('A/')).length).toBe(8);
    expect(s.train.filter((k) => k.startsWith('B/')).length).toBe(1);
    expect(s.test.filter((k) => k.startsWith('B/')).length).toBe(1);
  });
  it('saves as JSON and reloads; selects a dataset part; rejects unknown names and bad files', async () => {
    const root = await build(Object.fromEntries(['a', 'b', 'c', 'd', 'e'].flatMap((k, i) => [[`s/${k}.png`, gray8(8, 8, i)], [`t/${k}.png`, gray8(8, 8, 10 + i)]])));
    const ds = await loadDataset({ root, layout: 'paired', source: 's', target: 't' });
    const split = splitDataset(ds.keys, 3);
    const path = join(root, 'split.json');
    saveSplit(path, split);
    expect(loadSplit(path)).toEqual(split);
    const train = selectKeys(ds, loadSplit(path).train);
    expect(train.pairs.map((p) => p.key)).toEqual(split.train);
    expect(train.source.map((d) => d.file)).toEqual(split.train.map((k) => `s/${k}.png`));
    expect(() => selectKeys(ds, ['a', 'zz'])).toThrow(/1 name\(s\) of the split are not in the dataset at .*: zz/);
    writeFileSync(path, '{"seed": 1}');
    expect(() => loadSplit(path)).toThrow(`cannot read split ${path}: expected { seed, trainFraction, train: [names], test: [names] }`);
    expect(() => splitDataset(['a', 'a'], 1)).toThrow('names must be unique');
  });
});

describe('augmentation', () => {
  const fx = manifest.crops;
  const [C, H, W] = fx.image.shape;
  const planes = hashUniform(C * H * W, fx.image.seed);

  it('plain crop, 90° rotations and flips match numpy rot90 / fliplr', () => {
    for (const d of fx.dihedral) {
      const t: Transform = { x0: fx.x0, y0: fx.y0, scale: 1, rot: d.rot, flip: d.flip };
      expect(Array.from(applyTransform(planes, C, W, H, t, fx.size)), `rot ${d.rot} flip ${d.flip}`).toEqual(Array.from(literal(d.out)));
    }
  });
  it('zoom in and out match PyTorch bilinear resize (align_corners=False)', () => {
    for (const z of fx.zoom) {
      const [c, h, w] = z.image.shape;
      const img = hashUniform(c * h * w, z.image.seed);
      const out = applyTransform(img, c, w, h, { x0: 0, y0: 0, scale: z.scale, rot: 0, flip: false }, z.size);
      expect(maxDiff(out, literal(z.out))).toBeLessThanOrEqual(1e-6);
    }
  });
  it('a zoomed crop samples a linear ramp exactly where the transform says', () => {
    const w = 40;
    const h = 30;
    const ramp = new Float32Array(w * h).map((_, i) => 0.01 * (i % w) - 0.02 * Math.floor(i / w));
    const rng = new Rng(5);
    for (let k = 0; k < 50; k++) {
      const t = drawTransform(rng, w, h, 24, { rotate: false, flip: false, scale: [0.8, 1.25] });
      expect(t.scale).toBeGreaterThanOrEqual((24 - 1) / (h - 1)); // the window fits the image
      expect(t.scale).toBeLessThanOrEqual(1.25);
      const out = applyTransform(ramp, 1, w, h, t, 24);
      for (let v = 0; v < 24; v++) {
        for (let u = 0; u < 24; u++) {
          const x = t.x0 + (u + 0.5) / t.scale - 0.5;
          const y = t.y0 + (v + 0.5) / t.scale - 0.5;
          expect(x).toBeGreaterThanOrEqual(-1e-9);
          expect(y).toBeLessThanOrEqual(h - 1 + 1e-9);
          expect(Math.abs(out[v * 24 + u] - (0.01 * x - 0.02 * y))).toBeLessThanOrEqual(1e-5);
        }
      }
    }
  });

  async function pairDataset(): Promise<Dataset> {
    // target = 255 − source, so its normalised planes are the negated source planes.
    const rgb = (seed: number): Image => ({ width: 37, height: 29, channels: 3, bitDepth: 8, data: new Uint8Array(37 * 29 * 3).map((_, i) => hash32(i, seed)) });
    const inv = (img: Image): Image => ({ ...img, data: (img.data as Uint8Array).map((v) => 255 - v) });
    const a = rgb(1);
    const b = rgb(2);
    const root = await build({ 'in/a.png': a, 'out/a.png': inv(a), 'in/b.png': b, 'out/b.png': inv(b) });
    return loadDataset({ root, layout: 'paired', source: 'in', target: 'out' });
  }

  it('a plain crop lands at the drawn position, in both images of the pair', async () => {
    const ds = await pairDataset();
    const sampler = createSampler(ds, { size: 16, augment: { rotate: false, flip: false, scale: false } });
    const rng = new Rng(11);
    for (let k = 0; k < 10; k++) {
      const s = sampler.nextSample(rng);
      const t = s.sourceTransform;
      expect(Number.isInteger(t.x0) && Number.isInteger(t.y0) && t.scale === 1).toBe(true);
      const img = ds.source.find((d) => d.file === s.sourceFile)!;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 16; y++) {
          for (let x = 0; x < 16; x++) {
            const want = img.planes[c * 37 * 29 + (t.y0 + y) * 37 + t.x0 + x];
            expect(s.source[c * 256 + y * 16 + x]).toBe(want);
            expect(s.target[c * 256 + y * 16 + x]).toBeCloseTo(-want, 6);
          }
        }
      }
    }
  });
  it('a fully augmented pair gets one transform for both images; all symmetries and zooms occur', async () => {
    const ds = await pairDataset();
    const sampler = createSampler(ds, { size: 16 });
    expect(sampler.channels).toEqual({ source: 3, target: 3 });
    const rng = new Rng(12);
    const seen = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const s = sampler.nextSample(rng);
      expect(s.targetTransform).toBe(s.sourceTransform);
      expect(s.targetFile.slice(4)).toBe(s.sourceFile.slice(3));
      expect(maxDiff(s.target, s.source.map((v) => -v))).toBeLessThanOrEqual(1e-6);
      const img = ds.source.find((d) => d.file === s.sourceFile)!;
      expect(Array.from(s.source)).toEqual(Array.from(applyTransform(img.planes, 3, 37, 29, s.sourceTransform, 16)));
      const t = s.sourceTransform;
      expect(t.scale).toBeGreaterThanOrEqual(0.8);
      expect(t.scale).toBeLessThanOrEqual(1.25);
      seen.add(`${t.rot}${t.flip}`);
    }
    expect(seen.size).toBe(8);
  });
  it('unpaired draws source and target independently', async () => {
    const root = await build({ 'A/x.png': gray8(30, 20, 1), 'A/y.png': gray8(25, 25, 2), 'B/w.png': gray8(33, 21, 4), 'B/v.png': gray8(20, 40, 5) });
    const ds = await loadDataset({ root, layout: 'unpaired', source: 'A', target: 'B' });
    const sampler = createSampler(ds, { size: 20 });
    const rng = new Rng(4);
    const combos = new Set<string>();
    for (let k = 0; k < 60; k++) {
      const s = sampler.nextSample(rng);
      expect(s.targetTransform).not.toBe(s.sourceTransform);
      combos.add(`${s.sourceFile}|${s.targetFile}`);
    }
    expect(combos.size).toBe(4);
  });
  it('a restored RNG state continues with the same samples', async () => {
    const ds = await pairDataset();
    const sampler = createSampler(ds, { size: 12 });
    const rng = new Rng(99);
    for (let k = 0; k < 3; k++) sampler.nextSample(rng);
    const saved = JSON.parse(JSON.stringify(rng.state()));
    const first = Array.from({ length: 5 }, () => sampler.nextSample(rng));
    const resumed = Rng.fromState(saved);
    const again = Array.from({ length: 5 }, () => sampler.nextSample(resumed));
    expect(again).toEqual(first);
    expect(() => rng.setState({ seed: 1, counter: -1 })).toThrow('Rng.setState: expected { seed: integer, counter: non-negative integer }');
  });
  it('rejects a bad scale range', async () => {
    const ds = await pairDataset();
    const augment: Augment = { rotate: true, flip: true, scale: [1.5, 1.2] };
    expect(() => createSampler(ds, { size: 8, augment })).toThrow('scale augmentation range must be 0 < min ≤ max, got 1.5, 1.2');
  });
});

describe.skipIf(!HAVE_DATA)('BBBC006 sample as an unpaired set', () => {
  it('loads 25 defocused and 10 in-focus images; the cropped one is too small for 300-pixel crops', async () => {
    const ds = await loadDataset({ root: join(DATA, 'bbbc006-sample'), layout: 'unpaired', source: 'z00_defocused', target: 'z10_aligned' });
    expect([ds.source.length, ds.target.length]).toEqual([25, 10]);
    expect(ds.source.every((d) => d.width === 696 && d.height === 520 && d.bitDepth === 16 && d.normalization.kind === 'percentile')).toBe(true);
    expect(() => createSampler(ds, { size: 300 })).toThrow(/BBBC006_z_aligned__a01__s1__w1_10_cropped\.png \(273×428\)/);
    const split = splitDataset(ds.keys, 1);
    expect([split.train.length, split.test.length]).toEqual([28, 7]); // 20 + 8 train, 5 + 2 test
    const sample = createSampler(selectKeys(ds, split.train), { size: 256 }).nextSample(new Rng(1));
    expect(sample.source.length).toBe(256 * 256);
  });
});
