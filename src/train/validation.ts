// Validation for `train --keep best`: the run's held-out pairs (up to 16, each its central window of at most
// 512², whole for smaller images), corrected whole and scored by PSNR in the evaluation convention
// (eval/convention.ts), as `comi compare` scores test images. The corrector kept is the checkpoint that scores best
// on them — iteration 0 included, so that a network that never beats its start (with --start-at-input: the RL stage
// itself) is not kept in its place. CSBDeep's CARE keeps its best validation weights the same way.
import type { Dataset, DatasetImage } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { nameSeed } from '../model/module.js';
import type { Image } from '../data/image_type.js';
import { normalizeMinMse, normalizeTruth } from '../eval/convention.js';
import { psnr } from '../eval/metrics.js';

export const KEEP = ['best', 'last'] as const;
export type Keep = (typeof KEEP)[number];

/** Held-out pairs scored at each check, and the largest window side scored of each. */
export const VALIDATION_PAIRS = 16;
export const VALIDATION_SIDE = 512;

export interface ValidationImage {
  width: number;
  height: number;
  /** Normalised planar C×H×W windows, as the generator takes them (source: after any --rl-input stage). */
  source: Float32Array;
  target: Float32Array;
}

export interface ValidationSet {
  images: ValidationImage[];
  /** Mean convention PSNR of the uncorrected (for --rl-input: staged) input. */
  inputPsnr: number;
}

/** Where a run's kept corrector came from (checkpoint metadata and summary.json). */
export interface KeptCorrector {
  iteration: number;
  /** Mean validation PSNR of the kept corrector (dB). */
  psnr: number;
  /** The same at iteration 0 (the start: with --start-at-input, the input or its RL stage); absent in a run whose
   *  record began at a resume. */
  startPsnr?: number;
}

/** PSNR of pred against truth (planar, width × height × channels) in the evaluation convention. Percentiles, the
 *  least-squares fit and PSNR ignore pixel order, so C×H×W planes serve as they are. */
export function conventionPsnr(pred: Float32Array, truth: Float32Array, width: number, height: number, channels: 1 | 3): number {
  const image = (data: Float32Array): Image => ({ width, height, channels, bitDepth: 32, data });
  const t = normalizeTruth(image(truth));
  return psnr(image(normalizeMinMse(pred, t)), image(t), { dataRange: 1 });
}

function window(d: DatasetImage, x0: number, y0: number, w: number, h: number): Float32Array {
  const out = new Float32Array(d.channels * w * h);
  for (let c = 0; c < d.channels; c++) {
    for (let y = 0; y < h; y++) out.set(d.planes.subarray((c * d.height + y0 + y) * d.width + x0, (c * d.height + y0 + y) * d.width + x0 + w), (c * h + y) * w);
  }
  return out;
}

/** The held-out pairs' central windows, their sides multiples of `multiple` (what the generator's halvings need);
 *  null when there are none (unpaired data, no held-out split, or every image smaller than that or flat). */
export function validationSet(heldOut: Dataset, seed: number, multiple: number): ValidationSet | null {
  if (heldOut.layout === 'unpaired' || heldOut.pairs.length === 0) return null;
  const pairs = [...heldOut.pairs];
  const rng = new Rng(nameSeed(seed, 'validation'));
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  const images: ValidationImage[] = [];
  for (const p of pairs) {
    if (images.length === VALIDATION_PAIRS) break;
    const side = (n: number) => Math.min(n, VALIDATION_SIDE) - (Math.min(n, VALIDATION_SIDE) % multiple);
    const [w, h] = [side(p.source.width), side(p.source.height)];
    if (w < multiple || h < multiple) continue;
    const [x0, y0] = [(p.source.width - w) >> 1, (p.source.height - h) >> 1];
    const target = window(p.target, x0, y0, w, h);
    if (target.every((v) => v === target[0])) continue; // no percentile range to score against
    images.push({ width: w, height: h, source: window(p.source, x0, y0, w, h), target });
  }
  if (!images.length) return null;
  const channels = heldOut.pairs[0].source.channels;
  return { images, inputPsnr: meanPsnr(images.map((v) => v.source), images, channels) };
}

export function meanPsnr(outputs: Float32Array[], images: ValidationImage[], channels: 1 | 3): number {
  return outputs.reduce((a, o, k) => a + conventionPsnr(o, images[k].target, images[k].width, images[k].height, channels), 0) / outputs.length;
}
