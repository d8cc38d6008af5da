// Lays out the wafer focus series (../shared/data/wafer-focus-series: 7 fields of view, each at 10–11 known z
// offsets, offset 0 in focus) as two paired datasets for `comi train` / `comi compare`: the first five fields train,
// the last two test. Images are binned --bin × --bin (default 4: 480×300): the blur then fits the generator's receptive
// field and three training repeats fit a CPU budget; every method sees the same data. Names keep the offset
// (FIELD_z-36.00.png) so results break down by |z|.
//   node dist/bench/wafer_data.js [--src DIR] [--bin N] --out DIR
import { mkdirSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readImage, writeImage, type Image } from '../src/data/image.js';
import { flag } from './harness.js';

const src = flag('src', join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'wafer-focus-series'));
const out = flag('out', '');
if (!out) {
  console.error('usage: node dist/bench/wafer_data.js [--src DIR] --out DIR');
  process.exit(2);
}
if (!existsSync(src)) {
  console.error(`wafer focus series not found at ${src}`);
  process.exit(2);
}

const bin = Number(flag('bin', '4'));

/** Mean of each bin × bin block, rounded back to 8 bits (the series is 8-bit gray). */
function binned(img: Image): Image {
  const w = Math.floor(img.width / bin);
  const h = Math.floor(img.height / bin);
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = 0; j < bin; j++) for (let i = 0; i < bin; i++) s += img.data[(y * bin + j) * img.width + x * bin + i];
      data[y * w + x] = Math.round(s / (bin * bin));
    }
  }
  return { ...img, width: w, height: h, data };
}

// Field = level folder + tile name; offset = the number after the last '_' (optionally 'zoff…um').
const fields = new Map<string, { z: number; file: string }[]>();
for (const level of readdirSync(src).filter((d) => d.endsWith('_jpeg')).sort()) {
  for (const f of readdirSync(join(src, level)).sort()) {
    const m = f.match(/tile__(ix\d+_iy\d+)_(?:zoff)?(-?[\d.]+)(?:um)?\.jpe?g$/);
    if (!m) continue;
    const key = `${level.replace('_jpeg', '')}-${m[1]}`;
    if (!fields.has(key)) fields.set(key, []);
    fields.get(key)!.push({ z: Number(m[2]), file: join(src, level, f) });
  }
}
const keys = [...fields.keys()].sort();
const testKeys = new Set([keys.find((k) => k.startsWith('level1'))!, [...keys].reverse().find((k) => k.startsWith('level2'))!].filter(Boolean));
for (const key of keys) {
  const planes = fields.get(key)!;
  const focus = planes.find((p) => p.z === 0);
  if (!focus) throw new Error(`field ${key} has no z = 0 image`);
  const split = testKeys.has(key) ? 'test' : 'train';
  const truth = binned(await readImage(focus.file));
  for (const p of planes) {
    if (p === focus) continue;
    const name = `${key}_z${p.z.toFixed(2)}.png`;
    for (const [dir, img] of [['blurred', binned(await readImage(p.file))], ['clear', truth]] as const) {
      mkdirSync(join(out, split, dir), { recursive: true });
      await writeImage(join(out, split, dir, name), img);
    }
  }
  console.log(`${split}: ${key} (${planes.length - 1} defocused planes)`);
}
