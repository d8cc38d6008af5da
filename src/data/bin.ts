// Binning (the mean of n×n pixel blocks) and its way back (bilinear upsampling): a corrector can train and correct
// on a binned grid, where a blur many pixels wide becomes one that the generator's receptive field and 64² crops
// cover. Hand-written: a few exact loops over typed arrays (the oracle is scikit-image's block mean and its order-1
// resize, test/data/bin.test.ts), where a library would add a dependency and copies.
import type { Image } from './image_type.js';

/** The binned grid of a width × height image: blocks at the right and bottom edges hold what pixels remain. */
export function binnedSize(width: number, height: number, n: number): { width: number; height: number } {
  checkFactor(n);
  return { width: Math.ceil(width / n), height: Math.ceil(height / n) };
}

function checkFactor(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`binning factor must be a positive integer, got ${n}`);
}

/** Block means of one channel: src[offset + (y·width + x)·stride] → dst[dstOffset + (by·bw + bx)·dstStride]. */
function binChannel(src: ArrayLike<number>, offset: number, stride: number, width: number, height: number, n: number,
  dst: { [i: number]: number }, dstOffset: number, dstStride: number, round: boolean): void {
  const bw = Math.ceil(width / n);
  const bh = Math.ceil(height / n);
  const sums = new Float64Array(bw);
  for (let by = 0; by < bh; by++) {
    sums.fill(0);
    const y1 = Math.min(height, (by + 1) * n);
    for (let y = by * n; y < y1; y++) {
      for (let x = 0; x < width; x++) sums[Math.floor(x / n)] += src[offset + (y * width + x) * stride];
    }
    const rows = y1 - by * n;
    for (let bx = 0; bx < bw; bx++) {
      const mean = sums[bx] / (rows * (Math.min(width, (bx + 1) * n) - bx * n));
      dst[dstOffset + (by * bw + bx) * dstStride] = round ? Math.round(mean) : mean;
    }
  }
}

/** Planar C×H×W values binned n×n: C×ceil(H/n)×ceil(W/n). */
export function binPlanes(planes: Float32Array, channels: number, width: number, height: number, n: number): Float32Array {
  const { width: bw, height: bh } = binnedSize(width, height, n);
  if (planes.length !== channels * width * height) throw new Error(`binPlanes: ${planes.length} values for ${channels}×${height}×${width}`);
  if (n === 1) return planes;
  const out = new Float32Array(channels * bw * bh);
  for (let c = 0; c < channels; c++) binChannel(planes, c * width * height, 1, width, height, n, out, c * bw * bh, 1, false);
  return out;
}

/** An image binned n×n, in its own type: integer images keep their bit depth (means rounded, as a camera's binned
 *  read-out is), so that intensity mappings that depend on it (8-bit /255) stay the same. */
export function binImage(img: Image, n: number): Image {
  const { width, height } = binnedSize(img.width, img.height, n);
  if (n === 1) return img;
  const C = img.channels;
  const data = new (img.data.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor | Float32ArrayConstructor)(width * height * C);
  for (let c = 0; c < C; c++) binChannel(img.data, c, C, img.width, img.height, n, data, c, C, img.bitDepth !== 32);
  return { ...img, width, height, data };
}

/**
 * Planar C×h×w values on a grid binned n×n, back on the width × height grid: bilinear, each binned value at the
 * centre of its block, edges held (scikit-image's resize with order 1, mode 'edge', no anti-aliasing, where width
 * and height are multiples of n).
 */
export function unbinPlanes(planes: Float32Array, channels: number, width: number, height: number, n: number): Float32Array {
  const { width: w, height: h } = binnedSize(width, height, n);
  if (planes.length !== channels * w * h) throw new Error(`unbinPlanes: ${planes.length} values for ${channels}×${h}×${w}`);
  if (n === 1) return planes;
  // Each output coordinate's two binned neighbours and its weight on the second (held at the edges).
  const axis = (size: number, binned: number) => {
    const lo = new Int32Array(size);
    const hi = new Int32Array(size);
    const t = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const u = Math.min(binned - 1, Math.max(0, (i + 0.5) / n - 0.5));
      lo[i] = Math.floor(u);
      hi[i] = Math.min(binned - 1, lo[i] + 1);
      t[i] = u - lo[i];
    }
    return { lo, hi, t };
  };
  const ax = axis(width, w);
  const ay = axis(height, h);
  const out = new Float32Array(channels * width * height);
  for (let c = 0; c < channels; c++) {
    const p = c * w * h;
    for (let y = 0; y < height; y++) {
      const r0 = p + ay.lo[y] * w;
      const r1 = p + ay.hi[y] * w;
      const ty = ay.t[y];
      const o = (c * height + y) * width;
      for (let x = 0; x < width; x++) {
        const x0 = ax.lo[x];
        const x1 = ax.hi[x];
        const tx = ax.t[x];
        const top = planes[r0 + x0] + (planes[r0 + x1] - planes[r0 + x0]) * tx;
        const bottom = planes[r1 + x0] + (planes[r1 + x1] - planes[r1 + x0]) * tx;
        out[o + x] = top + (bottom - top) * ty;
      }
    }
  }
  return out;
}
