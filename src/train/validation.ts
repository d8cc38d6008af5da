// Validation for `train --keep best`: fixed crops of the run's held-out pairs, drawn anywhere (background included,
// as whole-image scores see it), scored by PSNR in the evaluation convention (eval/convention.ts). The corrector
// kept is the checkpoint that scores best on them — iteration 0 included, so that a network that never beats its
// start (with --start-at-input: the RL stage itself) is not kept in its place. CSBDeep's CARE keeps its best
// validation weights the same way.
import type { Dataset } from '../data/dataset.js';
import { createSampler } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { nameSeed } from '../model/module.js';
import type { Image } from '../data/image_type.js';
import { normalizeMinMse, normalizeTruth } from '../eval/convention.js';
import { psnr } from '../eval/metrics.js';

export const KEEP = ['best', 'last'] as const;
export type Keep = (typeof KEEP)[number];

/** Crops scored at each check, and their largest side (smaller when the held-out images are). */
export const VALIDATION_CROPS = 16;
export const VALIDATION_SIZE = 128;
/** Draws per crop before one whose target is flat (no percentile range to score against) is given up. */
const DRAWS = 20;

export interface ValidationSample {
  source: Float32Array;
  target: Float32Array;
}

export interface ValidationSet {
  size: number;
  samples: ValidationSample[];
  /** Mean convention PSNR of the uncorrected (for --rl-input: staged) input. */
  inputPsnr: number;
}

/** Where a run's kept corrector came from (checkpoint metadata and summary.json). */
export interface KeptCorrector {
  iteration: number;
  /** Mean validation PSNR of the kept corrector (dB). */
  psnr: number;
}

/** PSNR of pred against truth in the evaluation convention. Percentiles, the least-squares fit and PSNR ignore
 *  pixel order, so C×H×W planes serve as they are. */
export function conventionPsnr(pred: Float32Array, truth: Float32Array, size: number, channels: 1 | 3): number {
  const image = (data: Float32Array): Image => ({ width: size, height: size, channels, bitDepth: 32, data });
  const t = normalizeTruth(image(truth));
  return psnr(image(normalizeMinMse(pred, t)), image(t), { dataRange: 1 });
}

const flat = (x: Float32Array) => x.every((v) => v === x[0]);

/** Fixed validation crops of the held-out pairs, their side a multiple of `multiple` (what the generator's halvings
 *  need); null when there are none (unpaired data, no held-out split, or images smaller than that). */
export function validationSet(heldOut: Dataset, seed: number, multiple: number): ValidationSet | null {
  if (heldOut.layout === 'unpaired' || heldOut.pairs.length === 0) return null;
  const side = Math.min(VALIDATION_SIZE, ...heldOut.pairs.flatMap((p) => [p.source.width, p.source.height]));
  const size = side - (side % multiple);
  if (size < Math.max(16, multiple)) return null;
  const sampler = createSampler(heldOut, { size, augment: { rotate: false, flip: false, scale: false }, structured: false });
  const rng = new Rng(nameSeed(seed, 'validation'));
  const samples: ValidationSample[] = [];
  for (let k = 0; k < VALIDATION_CROPS; k++) {
    for (let d = 0; d < DRAWS; d++) {
      const s = sampler.nextSample(rng);
      if (!flat(s.target)) {
        samples.push({ source: s.source, target: s.target });
        break;
      }
    }
  }
  if (!samples.length) return null;
  const channels = heldOut.pairs[0].source.channels;
  return { size, samples, inputPsnr: meanPsnr(samples.map((s) => s.source), samples, size, channels) };
}

export function meanPsnr(outputs: Float32Array[], samples: ValidationSample[], size: number, channels: 1 | 3): number {
  return outputs.reduce((a, o, k) => a + conventionPsnr(o, samples[k].target, size, channels), 0) / outputs.length;
}
