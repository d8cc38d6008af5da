// QC montages: input | corrected | ground truth | absolute-error map, side by side as one 8-bit RGB image.
// Intensities are shown on one scale for the three images (the ground truth's 0.1–99.9 percentiles), so that
// brightness differences are visible; the error map is coloured (magma) from 0 to its 99.9th percentile.
import type { Image } from '../data/image.js';
import { percentiles } from '../data/normalize.js';

/** Gap between panels, in output pixels (white). */
const GAP = 8;
/** Panels are shrunk by an integer factor until their longer side is at most this. */
export const MAX_PANEL_SIDE = 768;

// matplotlib's magma at 0, 1/8, …, 1; linear in between.
const MAGMA = [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122], [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]];

export function magma(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (MAGMA.length - 1);
  const i = Math.min(MAGMA.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(MAGMA[i][c] + (MAGMA[i + 1][c] - MAGMA[i][c]) * f)) as [number, number, number];
}

/** An RGB 8-bit raster (interleaved). */
interface Rgb {
  width: number;
  height: number;
  data: Uint8Array;
}

/** [lo, hi] ↦ [0, 255], gray replicated to RGB. */
function display(img: Image, lo: number, hi: number): Rgb {
  const { width, height, channels, data } = img;
  const out = new Uint8Array(width * height * 3);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      const v = (data[i * channels + (channels === 3 ? c : 0)] - lo) * scale;
      out[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
  return { width, height, data: out };
}

/** |pred − truth| averaged over channels, per pixel. */
export function absoluteError(pred: Image, truth: Image): Float32Array {
  const n = truth.width * truth.height;
  const c = truth.channels;
  const err = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += Math.abs(pred.data[i * c + k] - truth.data[i * c + k]);
    err[i] = s / c;
  }
  return err;
}

function colourError(err: Float32Array, width: number, height: number, scale: number): Rgb {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < err.length; i++) out.set(magma(err[i] / scale), i * 3);
  return { width, height, data: out };
}

/** Box-filter shrink by an integer factor (edge blocks average what they cover). */
function shrink(img: Rgb, f: number): Rgb {
  if (f === 1) return img;
  const width = Math.ceil(img.width / f);
  const height = Math.ceil(img.height / f);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const acc = [0, 0, 0];
      let n = 0;
      for (let yy = y * f; yy < Math.min(img.height, (y + 1) * f); yy++) {
        for (let xx = x * f; xx < Math.min(img.width, (x + 1) * f); xx++) {
          const i = (yy * img.width + xx) * 3;
          acc[0] += img.data[i];
          acc[1] += img.data[i + 1];
          acc[2] += img.data[i + 2];
          n++;
        }
      }
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(acc[c] / n);
    }
  }
  return { width, height, data };
}

export interface Montage {
  image: Image;
  /** Panels in order, e.g. ['input', 'corrected', 'ground truth', '|error|']. */
  panels: string[];
  /** Intensity shown black … white, in the images' units. */
  displayRange: [number, number];
  /** Error shown at the top of the colour scale, in the images' units. */
  errorScale: number;
  /** Each panel is the image shrunk by this factor. */
  shrink: number;
}

/** input (optional) | corrected | ground truth | absolute error, all the same size (checked by the caller). */
export function qcMontage(input: Image | null, pred: Image, truth: Image, maxSide = MAX_PANEL_SIDE): Montage {
  const [lo, hi] = percentiles(truth, [0.1, 99.9]);
  const err = absoluteError(pred, truth);
  const errImage: Image = { width: truth.width, height: truth.height, channels: 1, bitDepth: 32, data: err };
  const errorScale = percentiles(errImage, [99.9])[0] || 1;
  const f = Math.max(1, Math.ceil(Math.max(truth.width, truth.height) / maxSide));
  const panels: [string, Rgb][] = [
    ...(input ? [['input', display(input, lo, hi)] as [string, Rgb]] : []),
    ['corrected', display(pred, lo, hi)],
    ['ground truth', display(truth, lo, hi)],
    ['|error|', colourError(err, truth.width, truth.height, errorScale)],
  ];
  const small = panels.map(([, p]) => shrink(p, f));
  const pw = small[0].width;
  const ph = small[0].height;
  const width = small.length * pw + (small.length - 1) * GAP;
  const data = new Uint8Array(width * ph * 3).fill(255);
  small.forEach((p, k) => {
    for (let y = 0; y < ph; y++) data.set(p.data.subarray(y * pw * 3, (y + 1) * pw * 3), (y * width + k * (pw + GAP)) * 3);
  });
  return {
    image: { width, height: ph, channels: 3, bitDepth: 8, data },
    panels: panels.map(([name]) => name),
    displayRange: [lo, hi],
    errorScale,
    shrink: f,
  };
}
