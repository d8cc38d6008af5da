// Intensity normalisation to the generator's tanh range [−1, 1], recorded so that it can be undone: [lo, hi] of the
// recorded range maps linearly onto [−1, 1]. Values outside it are not clipped here (the mapping stays invertible);
// denormalize clips to what the output type holds.
import { checkImage, type Image } from './image_type.js';

export type Normalization =
  | { kind: 'range'; min: number; max: number }
  | { kind: 'percentile'; low: number; high: number; pLow: number; pHigh: number };

/** '8bit': /255; '16bit-range': the full 0..65535; 'percentile': per image, as CSBDeep (default 0.1 / 99.9). */
export type NormalizationMode = '8bit' | '16bit-range' | 'percentile';

export interface NormalizationOptions { pLow?: number; pHigh?: number }

export const DEFAULT_PERCENTILES = { pLow: 0.1, pHigh: 99.9 };

export function fitNormalization(img: Image, mode: NormalizationMode, opts: NormalizationOptions = {}): Normalization {
  checkImage(img, 'fitNormalization');
  if (mode === '8bit' || mode === '16bit-range') {
    const want = mode === '8bit' ? 8 : 16;
    if (img.bitDepth !== want) {
      throw new Error(`fitNormalization: mode ${mode} is for ${want}-bit images, got a ${img.bitDepth}-bit image (use ${img.bitDepth === 8 ? '8bit' : img.bitDepth === 16 ? '16bit-range' : 'percentile'})`);
    }
    return { kind: 'range', min: 0, max: want === 8 ? 255 : 65535 };
  }
  if (mode !== 'percentile') throw new Error(`fitNormalization: mode must be 8bit, 16bit-range or percentile, got ${mode}`);
  const pLow = opts.pLow ?? DEFAULT_PERCENTILES.pLow;
  const pHigh = opts.pHigh ?? DEFAULT_PERCENTILES.pHigh;
  if (!(pLow >= 0 && pLow < pHigh && pHigh <= 100)) {
    throw new Error(`fitNormalization: percentiles must satisfy 0 ≤ pLow < pHigh ≤ 100, got ${pLow} and ${pHigh}`);
  }
  const [low, high] = percentiles(img, [pLow, pHigh]);
  return { kind: 'percentile', low, high, pLow, pHigh };
}

/**
 * Percentiles over all pixels and channels, numpy's default definition (linear interpolation between the sorted
 * values at rank p/100·(n−1)); NaN is ignored. Integer images are counted in a histogram, float images sorted.
 */
export function percentiles(img: Image, ps: number[]): number[] {
  const { data, bitDepth } = img;
  let sorted: { n: number; at: (k: number) => number };
  if (bitDepth === 32) {
    const s = Float32Array.from(data as Float32Array).sort(); // NaN sorts last
    let n = s.length;
    while (n > 0 && Number.isNaN(s[n - 1])) n--;
    sorted = { n, at: (k) => s[k] };
  } else {
    const counts = new Float64Array(bitDepth === 8 ? 256 : 65536);
    for (let i = 0; i < data.length; i++) counts[data[i]]++;
    const cum = new Float64Array(counts.length); // cum[v] = number of values ≤ v
    let c = 0;
    for (let v = 0; v < counts.length; v++) cum[v] = c += counts[v];
    sorted = {
      n: data.length,
      at: (k) => { // smallest v with cum[v] > k
        let lo = 0;
        let hi = cum.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cum[mid] > k) hi = mid;
          else lo = mid + 1;
        }
        return lo;
      },
    };
  }
  if (sorted.n === 0) throw new Error('percentiles: the image has no values that are numbers (all NaN)');
  return ps.map((p) => {
    if (!(p >= 0 && p <= 100)) throw new Error(`percentiles: p must be in [0, 100], got ${p}`);
    const rank = (p / 100) * (sorted.n - 1);
    const k = Math.floor(rank);
    const a = sorted.at(k);
    if (k + 1 >= sorted.n) return a;
    const b = sorted.at(k + 1);
    const t = rank - k;
    return t === 0 || a === b ? a : a + (b - a) * t;
  });
}

function bounds(n: Normalization): [number, number] {
  const [lo, hi] = n.kind === 'range' ? [n.min, n.max] : [n.low, n.high];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) throw new Error(`normalization: invalid range ${lo}..${hi}`);
  // A constant image (hi = lo) is given a span of 1 so that normalize and denormalize stay inverse.
  return [lo, hi > lo ? hi - lo : 1];
}

/** [scale, shift] taking values normalised by `from` to the same raw values normalised by `to`. */
export function remap(from: Normalization, to: Normalization): [number, number] {
  const [loF, spanF] = bounds(from);
  const [loT, spanT] = bounds(to);
  return [spanF / spanT, (spanF + 2 * (loF - loT)) / spanT - 1];
}

/** img → planar C×H×W float32, [lo, hi] ↦ [−1, 1]. */
export function normalize(img: Image, n: Normalization): Float32Array {
  checkImage(img, 'normalize');
  const [lo, span] = bounds(n);
  const { width, height, channels, data } = img;
  const plane = width * height;
  const out = new Float32Array(plane * channels);
  const scale = 2 / span;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < channels; c++) out[c * plane + i] = (data[i * channels + c] - lo) * scale - 1;
  }
  return out;
}

/** Inverse of normalize: planar C×H×W → interleaved data of the given bit depth (integers rounded and clipped). */
export function denormalize(planar: Float32Array, n: Normalization, bitDepth: 8 | 16 | 32, channels: 1 | 3): Uint8Array | Uint16Array | Float32Array {
  if (!(planar instanceof Float32Array)) throw new Error(`denormalize: expected a Float32Array, got ${(planar as object)?.constructor?.name ?? typeof planar}`);
  if (channels !== 1 && channels !== 3) throw new Error(`denormalize: channels must be 1 or 3, got ${channels}`);
  if (planar.length % channels !== 0) throw new Error(`denormalize: ${planar.length} values do not split into ${channels} planes`);
  const [lo, span] = bounds(n);
  const plane = planar.length / channels;
  const half = span / 2;
  let out: Uint8Array | Uint16Array | Float32Array;
  if (bitDepth === 32) {
    out = new Float32Array(planar.length);
    for (let i = 0; i < plane; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = (planar[c * plane + i] + 1) * half + lo;
    return out;
  }
  if (bitDepth !== 8 && bitDepth !== 16) throw new Error(`denormalize: bitDepth must be 8, 16 or 32, got ${bitDepth}`);
  const max = bitDepth === 8 ? 255 : 65535;
  out = bitDepth === 8 ? new Uint8Array(planar.length) : new Uint16Array(planar.length);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < channels; c++) {
      const v = Math.round((planar[c * plane + i] + 1) * half + lo);
      out[i * channels + c] = v < 0 ? 0 : v > max ? max : v; // NaN → 0 (typed-array conversion)
    }
  }
  return out;
}
