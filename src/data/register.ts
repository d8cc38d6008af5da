// Lateral registration of training pairs. A focus series drifts sideways as the stage or focus drive moves, and a
// corrector trained on shifted pairs learns to blur edges into both places. Each pair's integer shift is found by
// normalised cross-correlation of lightly smoothed images within ±maxShift pixels; both images are then cropped to
// their overlap. Integer only: resampling the in-focus target by a fraction of a pixel would blur it.
import type { Dataset, DatasetImage, DatasetPair } from './dataset.js';
import { cropPlanes } from './image.js';

/** Planar C×H×W values (a DatasetImage, or an image being scored). */
export interface Planes { width: number; height: number; channels: number; planes: Float32Array }

export interface PairShift {
  key: string;
  source: string;
  /** Target pixel (x + dx, y + dy) shows what source pixel (x, y) shows. */
  dx: number;
  dy: number;
  /** Correlation at the shift, and without one. */
  ncc: number;
  ncc0: number;
}

/** Correlation samples per shift: a grid with this many points at most, so large images cost no more. */
const MAX_SAMPLES = 1 << 16;
/** The smallest correlation gain over no shift that moves a pair: below it, noise could pick the shift. */
const MIN_GAIN = 0.01;
/** The correlation a shift must reach: unrelated noise images peak near 3/√(samples), about 0.1 for a 100² image. */
const MIN_CORRELATION = 0.2;

/** Channel mean of planar C×H×W data, smoothed with a 5-tap binomial filter (σ = 1 px) along both axes. */
function smoothedGray(d: Planes): Float32Array {
  const { width: w, height: h, channels } = d;
  const n = w * h;
  const gray = new Float32Array(n);
  for (let c = 0; c < channels; c++) for (let p = 0; p < n; p++) gray[p] += d.planes[c * n + p] / channels;
  const taps = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];
  const pass = (src: Float32Array, step: number, len: number, lines: number, lineStep: number) => {
    const out = new Float32Array(n);
    for (let l = 0; l < lines; l++) {
      for (let i = 0; i < len; i++) {
        let s = 0;
        for (let k = -2; k <= 2; k++) s += taps[k + 2] * src[l * lineStep + Math.min(len - 1, Math.max(0, i + k)) * step];
        out[l * lineStep + i * step] = s;
      }
    }
    return out;
  };
  return pass(pass(gray, 1, w, h, w), w, h, w, 1);
}

/** Normalised cross-correlation of a and b shifted by (dx, dy), over the overlap sampled every `stride` pixels. */
function ncc(a: Float32Array, b: Float32Array, w: number, h: number, dx: number, dy: number, stride: number): number {
  let n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (let y = Math.max(0, -dy); y < Math.min(h, h - dy); y += stride) {
    for (let x = Math.max(0, -dx); x < Math.min(w, w - dx); x += stride) {
      const u = a[y * w + x];
      const v = b[(y + dy) * w + x + dx];
      n++;
      sa += u;
      sb += v;
      saa += u * u;
      sbb += v * v;
      sab += u * v;
    }
  }
  const cov = sab - (sa * sb) / n;
  const den = Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
  return den > 0 ? cov / den : 0;
}

/**
 * The integer shift within ±maxShift that best aligns target to source. A pair stays unshifted unless the best
 * correlation reaches MIN_CORRELATION, beats no shift by MIN_GAIN and lies inside the search window: a peak on its
 * edge is a periodic pattern's neighbour or a drift larger than allowed, not a trustworthy match.
 */
export function estimateShift(source: Planes, target: Planes, maxShift: number): Omit<PairShift, 'key' | 'source'> {
  const { width: w, height: h } = source;
  if (target.width !== w || target.height !== h) throw new Error(`estimateShift: the images differ in size (${w}×${h}, ${target.width}×${target.height})`);
  const r = Math.min(maxShift, Math.floor((w - 1) / 2), Math.floor((h - 1) / 2));
  const a = smoothedGray(source);
  const b = smoothedGray(target);
  const stride = Math.max(1, Math.ceil(Math.sqrt((w * h) / MAX_SAMPLES)));
  const ncc0 = ncc(a, b, w, h, 0, 0, stride);
  let best = { dx: 0, dy: 0, ncc: ncc0 };
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const c = ncc(a, b, w, h, dx, dy, stride);
      if (c > best.ncc) best = { dx, dy, ncc: c };
    }
  }
  const onEdge = Math.abs(best.dx) === r || Math.abs(best.dy) === r;
  if (onEdge || best.ncc < MIN_CORRELATION || best.ncc < ncc0 + MIN_GAIN) return { dx: 0, dy: 0, ncc: ncc0, ncc0 };
  return { ...best, ncc0 };
}

/** Where a pair's images overlap under the shift: the window in each, of one size. */
export function overlap(width: number, height: number, dx: number, dy: number) {
  const sx = Math.max(0, -dx);
  const sy = Math.max(0, -dy);
  return { source: { x0: sx, y0: sy }, target: { x0: sx + dx, y0: sy + dy }, width: width - Math.abs(dx), height: height - Math.abs(dy) };
}

/** The pair with both images cropped to their overlap under the shift. */
function alignPair(p: DatasetPair, dx: number, dy: number): DatasetPair {
  if (dx === 0 && dy === 0) return p;
  const o = overlap(p.source.width, p.source.height, dx, dy);
  const crop = (d: DatasetImage, at: { x0: number; y0: number }): DatasetImage =>
    ({ ...d, width: o.width, height: o.height, planes: cropPlanes(d.planes, d.channels, d.width, d.height, at.x0, at.y0, o.width, o.height) });
  return { key: p.key, source: crop(p.source, o.source), target: crop(p.target, o.target) };
}

/** The dataset with every pair aligned (paired and zstack layouts), and the shift found for each. */
export function registerPairs(ds: Dataset, maxShift: number): { dataset: Dataset; shifts: PairShift[] } {
  if (!(Number.isInteger(maxShift) && maxShift >= 1)) throw new Error(`the registration search radius must be an integer ≥ 1 px, got ${maxShift}`);
  if (ds.layout === 'unpaired') throw new Error('registration needs pairs: an unpaired dataset has nothing to align');
  const shifts: PairShift[] = [];
  const pairs = ds.pairs.map((p) => {
    const s = estimateShift(p.source, p.target, maxShift);
    shifts.push({ key: p.key, source: p.source.file, ...s });
    return alignPair(p, s.dx, s.dy);
  });
  const source = [...new Set(pairs.map((p) => p.source))];
  const target = [...new Set(pairs.map((p) => p.target))];
  return { dataset: { ...ds, pairs, source, target }, shifts };
}

/** One line for the training log: how many pairs moved and the largest move. */
export function registrationNote(shifts: readonly PairShift[], maxShift: number): string {
  const moved = shifts.filter((s) => s.dx !== 0 || s.dy !== 0);
  if (moved.length === 0) return `registration (±${maxShift} px): every pair is aligned as it is`;
  const worst = moved.reduce((a, b) => (Math.hypot(b.dx, b.dy) > Math.hypot(a.dx, a.dy) ? b : a));
  return `registration (±${maxShift} px): ${moved.length} of ${shifts.length} pairs shifted and cropped to their overlap; ` +
    `largest ${worst.source} by (${worst.dx}, ${worst.dy}) px, correlation ${worst.ncc0.toFixed(3)} → ${worst.ncc.toFixed(3)}`;
}
