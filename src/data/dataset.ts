// Training datasets: folder layouts, validation, a seeded train/test split and a sampler of augmented crops.
// Every image is decoded once, normalised (normalize.ts) and kept in memory as float32 planes C×H×W.
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { join, extname, basename } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { checkFiniteImage } from './finite.js';
import { readImagePages, readStack, IMAGE_EXTENSIONS, type Image } from './image.js';
import { fitNormalization, normalize, remap, type Normalization, type NormalizationMode, type NormalizationOptions } from './normalize.js';
import { Rng } from './rng.js';

export type Layout = 'paired' | 'zstack' | 'unpaired';
const LAYOUTS: Layout[] = ['paired', 'zstack', 'unpaired'];

export interface DatasetOptions {
  root: string;
  layout: Layout;
  /** paired / unpaired: folder names under root of the out-of-focus (source) and in-focus (target) images. */
  source?: string;
  target?: string;
  /** zstack: folder of the in-focus plane, and the input planes (default: every other folder under root). With
   * one stack file per field of view under root instead, the 1-based page numbers ('7', and ['4', '5', '6']). */
  inFocus?: string;
  planes?: string[];
  /** 'auto' (default): 8-bit images /255, 16-bit and float images by percentiles. */
  normalization?: NormalizationMode | 'auto';
  percentiles?: NormalizationOptions;
  onProgress?: (done: number, total: number) => void;
}

export interface DatasetImage {
  /** Path relative to root, e.g. 'blurred/a.png'. */
  file: string;
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16 | 32;
  normalization: Normalization;
  /** Normalised, planar C×H×W. */
  planes: Float32Array;
}

export interface DatasetPair { key: string; source: DatasetImage; target: DatasetImage }

export interface Dataset {
  layout: Layout;
  root: string;
  /** Out-of-focus images (each once), in-focus images (each once; a z-stack's in-focus image serves many pairs). */
  source: DatasetImage[];
  target: DatasetImage[];
  /** paired and zstack only. */
  pairs: DatasetPair[];
  /** Files that found no partner, relative to root. */
  unmatched: string[];
  /** The units a split divides: the pair's file name without extension (paired), the in-focus file's (zstack, so
   *  every plane of a field lands on the same side), or each image's file (unpaired). */
  keys: string[];
}

const stem = (file: string) => basename(file, extname(file));

/** Plane N (1-based) of a stack file is named `FILE#N` in a dataset. */
const PLANE = /^(.*)#(\d+)$/;

/** The plane a zstack image belongs to: its folder, or its page number in a stack file. */
export function datasetPlane(name: string): string {
  return PLANE.exec(name)?.[2] ?? name.slice(0, name.indexOf('/'));
}

/** A file name for one dataset image: stack planes become STEM_zN.EXT. */
export function datasetFileName(name: string): string {
  const m = PLANE.exec(name);
  return m ? `${m[1].slice(0, m[1].length - extname(m[1]).length)}_z${m[2]}${extname(m[1])}` : name;
}

/** One dataset image by name (a file under root, or `FILE#N`); stacks already read are passed in `stacks`. */
export async function readDatasetImage(root: string, name: string, stacks?: Map<string, Image[]>): Promise<Image> {
  const m = PLANE.exec(name);
  if (m) return (stacks?.get(m[1]) ?? (await readStack(join(root, m[1]))).pages)[Number(m[2]) - 1];
  const pages = await readImagePages(join(root, name));
  // A stack is never cut to its first page behind the user's back.
  if (pages.length > 1) throw new Error(`${join(root, name)} is a ${pages.length}-page stack; in a training set a stack is one field of view of --layout zstack with --in-focus PLANE (a page number)`);
  return pages[0];
}

/** zstack with one stack file per field of view: pairs every input page with the in-focus page of its file. */
async function planStackFiles(root: string, inFocus: number, planes: string[] | undefined, stacks: Map<string, Image[]>): Promise<Array<{ key: string; source: string; target: string }>> {
  const files = readdirSync(root).filter((f) => /\.tiff?$/i.test(f) && !f.startsWith('.') && statSync(join(root, f)).isFile()).sort();
  if (files.length === 0) throw new Error(`zstack layout with in-focus plane ${inFocus} (a page number) needs one multi-page TIFF per field of view in ${root}; it has none`);
  const bad = planes?.find((p) => !/^\d+$/.test(p));
  if (bad !== undefined) throw new Error(`zstack layout: with an in-focus page number the input planes are page numbers too, got '${bad}'`);
  const planned = [];
  for (const f of files) {
    const { pages, meta } = await readStack(join(root, f));
    if (meta.axes.length > 1) throw new Error(`not supported: ${join(root, f)} has axes ${meta.axes.map((a) => a.axis).join('')}; a training z-stack needs one axis`);
    const inputs = planes ? planes.map(Number) : pages.map((_, i) => i + 1).filter((i) => i !== inFocus);
    for (const p of [inFocus, ...inputs]) {
      if (p < 1 || p > pages.length) throw new Error(`${join(root, f)} has ${pages.length} planes; there is no plane ${p} (planes are numbered from 1)`);
    }
    if (inputs.includes(inFocus)) throw new Error(`zstack layout: the in-focus plane ${inFocus} cannot also be an input plane`);
    stacks.set(f, pages);
    for (const p of inputs) planned.push({ key: stem(f), source: `${f}#${p}`, target: `${f}#${inFocus}` });
  }
  return planned;
}

function listImages(root: string, folder: string, role: string): string[] {
  const dir = join(root, folder);
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${role} folder ${dir} is a file, not a folder`);
    entries = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const found = subfolders(root);
    throw new Error(`${role} folder ${dir} does not exist${found.length ? ` (folders in ${root}: ${found.join(', ')})` : ''}`);
  }
  const files = entries
    .filter((f) => !f.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()))
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
  if (files.length === 0) throw new Error(`${role} folder ${dir} has no images (${IMAGE_EXTENSIONS.join(', ')})`);
  return files;
}

function subfolders(root: string): string[] {
  return readdirSync(root).filter((f) => !f.startsWith('.') && statSync(join(root, f)).isDirectory()).sort();
}

function byStem(files: string[], folder: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const f of files) {
    const other = map.get(stem(f));
    if (other) throw new Error(`ambiguous names in ${folder}: ${other} and ${f} differ only by extension`);
    map.set(stem(f), f);
  }
  return map;
}

/** The last run of digits in a file name (z-stack planes often number the same field Z4_12, Z7_12, …). */
export function fileIndex(file: string): string | null {
  const m = stem(file).match(/(\d+)(?!.*\d)/);
  return m ? String(Number(m[1])) : null;
}

function uniqueIndex(files: string[]): Map<string, string> {
  const map = new Map<string, string>();
  const dup = new Set<string>();
  for (const f of files) {
    const i = fileIndex(f);
    if (i === null) continue;
    if (map.has(i)) dup.add(i);
    map.set(i, f);
  }
  for (const i of dup) map.delete(i);
  return map;
}

export async function loadDataset(opts: DatasetOptions): Promise<Dataset> {
  const { root, layout } = opts;
  if (!LAYOUTS.includes(layout)) throw new Error(`unknown dataset layout '${layout}' (expected ${LAYOUTS.join(', ')})`);
  let rootStat;
  try {
    rootStat = statSync(root);
  } catch {
    throw new Error(`dataset folder ${root} does not exist`);
  }
  if (!rootStat.isDirectory()) throw new Error(`dataset folder ${root} is a file, not a folder`);

  // Plan: which files form the dataset (relative paths) and which pairs they make.
  const sourceFiles: string[] = [];
  const targetFiles: string[] = [];
  const planned: Array<{ key: string; source: string; target: string }> = [];
  const unmatched: string[] = [];
  const stacks = new Map<string, Image[]>();
  if (layout === 'paired' || layout === 'unpaired') {
    if (!opts.source || !opts.target) throw new Error(`${layout} layout needs source and target: the folder names under ${root}`);
    if (opts.source === opts.target) throw new Error(`source and target are the same folder (${opts.source})`);
    const src = listImages(root, opts.source, 'source');
    const tgt = listImages(root, opts.target, 'target');
    if (layout === 'unpaired') {
      sourceFiles.push(...src.map((f) => `${opts.source}/${f}`));
      targetFiles.push(...tgt.map((f) => `${opts.target}/${f}`));
    } else {
      const s = byStem(src, opts.source);
      const t = byStem(tgt, opts.target);
      for (const [name, f] of s) {
        const g = t.get(name);
        if (g) planned.push({ key: name, source: `${opts.source}/${f}`, target: `${opts.target}/${g}` });
        else unmatched.push(`${opts.source}/${f}`);
      }
      for (const [name, g] of t) if (!s.has(name)) unmatched.push(`${opts.target}/${g}`);
      if (planned.length === 0) {
        throw new Error(`no file in ${opts.source} has a partner of the same name in ${opts.target} (e.g. ${src[0]} vs ${tgt[0]})`);
      }
    }
  } else if (opts.inFocus && /^\d+$/.test(opts.inFocus)) {
    planned.push(...(await planStackFiles(root, Number(opts.inFocus), opts.planes, stacks)));
  } else {
    const folders = subfolders(root);
    if (!opts.inFocus) throw new Error(`zstack layout needs inFocus: the in-focus plane's folder (folders in ${root}: ${folders.join(', ') || 'none'})`);
    const inFocus = opts.inFocus;
    const planes = opts.planes ?? folders.filter((f) => f !== inFocus);
    if (planes.length === 0) throw new Error(`zstack layout: no input planes besides ${inFocus} in ${root}`);
    if (planes.includes(inFocus)) throw new Error(`zstack layout: the in-focus plane ${inFocus} cannot also be an input plane`);
    const focusFiles = listImages(root, inFocus, 'in-focus plane');
    const focusByStem = byStem(focusFiles, inFocus);
    const focusByIndex = uniqueIndex(focusFiles);
    const used = new Set<string>();
    for (const p of planes) {
      const files = listImages(root, p, 'plane');
      const planeIndex = uniqueIndex(files);
      for (const f of files) {
        let g = focusByStem.get(stem(f));
        const i = fileIndex(f);
        if (!g && i !== null && planeIndex.get(i) === f) g = focusByIndex.get(i);
        if (g) {
          planned.push({ key: stem(g), source: `${p}/${f}`, target: `${inFocus}/${g}` });
          used.add(g);
        } else unmatched.push(`${p}/${f}`);
      }
    }
    for (const g of focusFiles) if (!used.has(g)) unmatched.push(`${inFocus}/${g}`);
    if (planned.length === 0) throw new Error(`zstack layout: no file in ${planes.join(', ')} matches a file of ${inFocus} by name or index`);
  }
  sourceFiles.push(...new Set(planned.map((p) => p.source)));
  targetFiles.push(...new Set(planned.map((p) => p.target)));

  // Decode and normalise each file once.
  const mode = opts.normalization ?? 'auto';
  const cache = new Map<string, DatasetImage>();
  const total = sourceFiles.length + targetFiles.length;
  for (const file of [...sourceFiles, ...targetFiles]) {
    const img = await readDatasetImage(root, file, stacks);
    checkFiniteImage(img, join(root, file), 'training needs finite pixel values');
    const m: NormalizationMode = mode !== 'auto' ? mode : img.bitDepth === 8 ? '8bit' : 'percentile';
    let normalization: Normalization;
    try {
      normalization = fitNormalization(img, m, opts.percentiles);
    } catch (err) {
      throw new Error(`${join(root, file)}: ${(err as Error).message}`);
    }
    const { width, height, channels, bitDepth } = img;
    cache.set(file, { file, width, height, channels, bitDepth, normalization, planes: normalize(img, normalization) });
    opts.onProgress?.(cache.size, total);
  }
  const source = sourceFiles.map((f) => cache.get(f)!);
  const target = targetFiles.map((f) => cache.get(f)!);
  for (const [domain, images] of [['source', source], ['target', target]] as const) {
    const odd = images.find((d) => d.channels !== images[0].channels);
    if (odd) throw new Error(`${domain} images mix channel counts: ${images[0].file} has ${images[0].channels}, ${odd.file} has ${odd.channels}`);
  }
  const pairs = planned.map((p) => ({ key: p.key, source: cache.get(p.source)!, target: cache.get(p.target)! }));
  for (const p of pairs) {
    if (p.source.width !== p.target.width || p.source.height !== p.target.height) {
      throw new Error(`pair sizes differ: ${p.source.file} is ${p.source.width}×${p.source.height}, ${p.target.file} is ${p.target.width}×${p.target.height}`);
    }
  }
  const keys = layout === 'unpaired' ? [...sourceFiles, ...targetFiles] : [...new Set(planned.map((p) => p.key))];
  return { layout, root, source, target, pairs, unmatched, keys };
}

/** The part of a dataset whose keys are listed (a split's train or test list); unknown keys are an error. */
export function selectKeys(ds: Dataset, keys: readonly string[]): Dataset {
  const known = new Set(ds.keys);
  const unknown = keys.filter((k) => !known.has(k));
  if (unknown.length) {
    throw new Error(`${unknown.length} name(s) of the split are not in the dataset at ${ds.root}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`);
  }
  const want = new Set(keys);
  if (ds.layout === 'unpaired') {
    return { ...ds, source: ds.source.filter((d) => want.has(d.file)), target: ds.target.filter((d) => want.has(d.file)), keys: ds.keys.filter((k) => want.has(k)) };
  }
  const pairs = ds.pairs.filter((p) => want.has(p.key));
  const used = new Set(pairs.flatMap((p) => [p.source, p.target]));
  return {
    ...ds, pairs, keys: ds.keys.filter((k) => want.has(k)),
    source: ds.source.filter((d) => used.has(d)), target: ds.target.filter((d) => used.has(d)),
  };
}

export interface Split { seed: number; trainFraction: number; train: string[]; test: string[] }

/**
 * Seeded split of names into train and test. Names are grouped by the part before their first '/' (the two domains
 * of an unpaired set) and each group is split on its own, so each keeps the fraction; the listing order of the input
 * does not matter. A group of n ≥ 2 names keeps at least one on each side.
 */
export function splitDataset(items: readonly string[], seed: number, trainFraction = 0.8): Split {
  if (!(trainFraction > 0 && trainFraction < 1)) throw new Error(`splitDataset: trainFraction must be in (0, 1), got ${trainFraction}`);
  if (new Set(items).size !== items.length) throw new Error('splitDataset: names must be unique');
  const groups = new Map<string, string[]>();
  for (const it of [...items].sort()) {
    const g = it.includes('/') ? it.slice(0, it.indexOf('/')) : '';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(it);
  }
  const rng = new Rng(seed);
  const train: string[] = [];
  const test: string[] = [];
  for (const g of [...groups.keys()].sort()) {
    const names = groups.get(g)!;
    for (let i = names.length - 1; i > 0; i--) { // Fisher–Yates
      const j = rng.int(i + 1);
      [names[i], names[j]] = [names[j], names[i]];
    }
    const n = names.length;
    const nTrain = n < 2 ? n : Math.min(n - 1, Math.max(1, Math.round(n * trainFraction)));
    train.push(...names.slice(0, nTrain));
    test.push(...names.slice(nTrain));
  }
  return { seed, trainFraction, train: train.sort(), test: test.sort() };
}

export function saveSplit(path: string, split: Split): void {
  writeFileAtomic(path, `${JSON.stringify(split, null, 1)}\n`);
}

export function loadSplit(path: string): Split {
  let doc: Split;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read split ${path}: ${(err as Error).message}`);
  }
  const names = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (!doc || !Number.isInteger(doc.seed) || typeof doc.trainFraction !== 'number' || !names(doc.train) || !names(doc.test)) {
    throw new Error(`cannot read split ${path}: expected { seed, trainFraction, train: [names], test: [names] }`);
  }
  return doc;
}

// ---- sampler ----

export interface Augment {
  /** Random multiples of 90°. */
  rotate: boolean;
  /** Random left-right mirror (with the rotations: all 8 symmetries of the square). */
  flip: boolean;
  /** Random zoom, log-uniform in [min, max], bilinear; false for none. */
  scale: false | [number, number];
}
export const DEFAULT_AUGMENT: Augment = { rotate: true, flip: true, scale: [0.8, 1.25] };

/**
 * Where a crop comes from: output pixel (u, v) before the rotation samples the image at
 * (x0 + (u + ½)/scale − ½, y0 + (v + ½)/scale − ½); then the crop is rotated `rot` quarter turns counter-clockwise
 * (numpy's rot90) and, if `flip`, mirrored left-right. With scale 1 and integer x0, y0 it is a plain crop.
 */
export interface Transform { x0: number; y0: number; scale: number; rot: 0 | 1 | 2 | 3; flip: boolean }

/** Draws a transform for a size × size crop of a width × height image (translation = the crop position). */
export function drawTransform(rng: Rng, width: number, height: number, size: number, augment: Augment = DEFAULT_AUGMENT): Transform {
  if (width < size || height < size) throw new Error(`a ${width}×${height} image is smaller than the crop size ${size}`);
  let scale = 1;
  if (augment.scale) {
    const [lo, hi] = augment.scale;
    scale = Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
    // Zooming out needs a window of size/scale pixels: never larger than the image.
    const minSide = Math.min(width, height);
    if (minSide > 1) scale = Math.max(scale, (size - 1) / (minSide - 1));
  }
  let x0: number;
  let y0: number;
  if (scale === 1) {
    x0 = rng.int(width - size + 1);
    y0 = rng.int(height - size + 1);
  } else {
    // Every sample inside [0, W−1] × [0, H−1]: no extrapolation at the borders.
    const lo = 0.5 - 0.5 / scale;
    x0 = rng.uniform(lo, Math.max(lo, width - 0.5 - (size - 0.5) / scale));
    y0 = rng.uniform(lo, Math.max(lo, height - 0.5 - (size - 0.5) / scale));
  }
  const rot = (augment.rotate ? rng.int(4) : 0) as Transform['rot'];
  const flip = augment.flip ? rng.next() < 0.5 : false;
  return { x0, y0, scale, rot, flip };
}

/** Applies t to planar C×H×W data: a C×size×size crop (bilinear where the scale or offsets are fractional). */
export function applyTransform(planes: Float32Array, channels: number, width: number, height: number, t: Transform, size: number): Float32Array {
  const out = new Float32Array(channels * size * size);
  const n = size - 1;
  const plane = width * height;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      // Undo the flip, then the rotation: (i, j) of the output comes from (v, u) of the unrotated crop.
      const jj = t.flip ? n - j : j;
      let v: number;
      let u: number;
      if (t.rot === 0) [v, u] = [i, jj];
      else if (t.rot === 1) [v, u] = [jj, n - i];
      else if (t.rot === 2) [v, u] = [n - i, n - jj];
      else [v, u] = [n - jj, i];
      const x = Math.min(width - 1, Math.max(0, t.x0 + (u + 0.5) / t.scale - 0.5));
      const y = Math.min(height - 1, Math.max(0, t.y0 + (v + 0.5) / t.scale - 0.5));
      const xa = Math.floor(x);
      const ya = Math.floor(y);
      const xb = Math.min(xa + 1, width - 1);
      const yb = Math.min(ya + 1, height - 1);
      const fx = x - xa;
      const fy = y - ya;
      for (let c = 0; c < channels; c++) {
        const p = c * plane;
        const top = fx === 0 ? planes[p + ya * width + xa] : planes[p + ya * width + xa] * (1 - fx) + planes[p + ya * width + xb] * fx;
        const bottom = fy === 0 ? top : fx === 0 ? planes[p + yb * width + xa] : planes[p + yb * width + xa] * (1 - fx) + planes[p + yb * width + xb] * fx;
        out[c * size * size + i * size + j] = fy === 0 ? top : top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

export interface Sample {
  /** C×size×size crops, normalised. */
  source: Float32Array;
  target: Float32Array;
  sourceFile: string;
  targetFile: string;
  sourceTransform: Transform;
  /** The same object as sourceTransform for a pair. */
  targetTransform: Transform;
}

export interface Sampler {
  size: number;
  channels: { source: 1 | 3; target: 1 | 3 };
  nextSample(rng: Rng): Sample;
}

/**
 * Random size × size crops: a pair (paired, zstack) gets one transform for both images; unpaired draws a source and a
 * target image independently. Images smaller than the crop are an error (no padding is invented).
 */
/** Tries per crop when crops must show structure; the crop with the most variance wins if none passes. */
const STRUCTURE_TRIES = 8;

function variance(crop: Float32Array): number {
  let s = 0;
  let s2 = 0;
  for (const v of crop) {
    s += v;
    s2 += v * v;
  }
  const m = s / crop.length;
  return s2 / crop.length - m * m;
}

/**
 * `sharedScale`: a pair's target is expressed in its source's intensity mapping, as correction will see it (the input
 * normalised by its own percentiles, the output mapped back with them); with each image normalised by its own
 * percentiles, the target's brighter in-focus peaks would otherwise be scaled down to the blurred image's range.
 * `structured`: a pair's crop is redrawn (up to STRUCTURE_TRIES times) until its target varies at least as much as
 * the whole target image does on average, as CSBDeep's patch filter skips empty background: most fields of view are
 * mostly background, which teaches a corrector nothing.
 */
export function createSampler(ds: Dataset, opts: { size: number; augment?: Augment; structured?: boolean; sharedScale?: boolean }): Sampler {
  const { size } = opts;
  const augment = opts.augment ?? DEFAULT_AUGMENT;
  if (!Number.isInteger(size) || size < 1) throw new Error(`crop size must be a positive integer, got ${size}`);
  if (augment.scale && !(augment.scale[0] > 0 && augment.scale[0] <= augment.scale[1])) {
    throw new Error(`scale augmentation range must be 0 < min ≤ max, got ${augment.scale.join(', ')}`);
  }
  const paired = ds.layout !== 'unpaired';
  if (paired ? ds.pairs.length === 0 : ds.source.length === 0 || ds.target.length === 0) {
    throw new Error(`the dataset at ${ds.root} has no ${paired ? 'pairs' : 'images in one of its domains'} to sample`);
  }
  const small = [...ds.source, ...ds.target].filter((d) => d.width < size || d.height < size);
  if (small.length) {
    throw new Error(`${small.length} image(s) are smaller than the crop size ${size}, e.g. ${join(ds.root, small[0].file)} (${small[0].width}×${small[0].height}); use a smaller crop size`);
  }
  const crop = (d: DatasetImage, t: Transform) => applyTransform(d.planes, d.channels, d.width, d.height, t, size);
  const variances = new Map<DatasetImage, number>();
  const imageVariance = (d: DatasetImage) => {
    if (!variances.has(d)) variances.set(d, variance(d.planes));
    return variances.get(d)!;
  };
  return {
    size,
    channels: { source: ds.source[0].channels, target: ds.target[0].channels },
    nextSample(rng: Rng): Sample {
      if (paired) {
        const p = ds.pairs[rng.int(ds.pairs.length)];
        let best: { t: Transform; target: Float32Array; v: number } | null = null;
        for (let k = 0; k < (opts.structured ? STRUCTURE_TRIES : 1); k++) {
          const t = drawTransform(rng, p.source.width, p.source.height, size, augment);
          const target = crop(p.target, t);
          const v = opts.structured ? variance(target) : 0;
          if (!best || v > best.v) best = { t, target, v };
          if (!opts.structured || v >= imageVariance(p.target)) break;
        }
        const { t, target } = best!;
        if (opts.sharedScale) {
          const [a, b] = remap(p.target.normalization, p.source.normalization);
          for (let i = 0; i < target.length; i++) target[i] = a * target[i] + b;
        }
        return { source: crop(p.source, t), target, sourceFile: p.source.file, targetFile: p.target.file, sourceTransform: t, targetTransform: t };
      }
      const s = ds.source[rng.int(ds.source.length)];
      const ts = drawTransform(rng, s.width, s.height, size, augment);
      const g = ds.target[rng.int(ds.target.length)];
      const tg = drawTransform(rng, g.width, g.height, size, augment);
      return { source: crop(s, ts), target: crop(g, tg), sourceFile: s.file, targetFile: g.file, sourceTransform: ts, targetTransform: tg };
    },
  };
}
