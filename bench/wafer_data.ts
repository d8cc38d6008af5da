// Lays out the wafer focus series (../shared/data/wafer-focus-series: 7 fields of view, each at 10–11 known z
// offsets, offset 0 in focus) as two paired datasets for `comi train` / `comi compare`: the first five fields train,
// the last two test. Images are binned 2×2 (960×600): the blur then fits the generator's receptive field, and every
// method sees the same data. Names keep the offset (FIELD_z-36.00.png) so results break down by |z|.
//   node dist/bench/wafer_data.js [--src DIR] --out DIR
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

/** Mean of each 2×2 block, rounded back to 8 bits. */
function bin2(img: Image): Image {
  const w = Math.floor(img.width / 2);
  const h = Math.floor(img.height / 2);
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 2 * y * img.width + 2 * x;
      data[y * w + x] = Math.round((img.data[i] + img.data[i + 1] + img.data[i + img.width] + img.data[i + img.width + 1]) / 4);
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
  const truth = bin2(await readImage(focus.file));
  for (const p of planes) {
    if (p === focus) continue;
    const name = `${key}_z${p.z.toFixed(2)}.png`;
    for (const [dir, img] of [['blurred', bin2(await readImage(p.file))], ['clear', truth]] as const) {
      mkdirSync(join(out, split, dir), { recursive: true });
      await writeImage(join(out, split, dir, name), img);
    }
  }
  console.log(`${split}: ${key} (${planes.length - 1} defocused planes)`);
}
