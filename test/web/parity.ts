// What the browser tests compare: one image corrected by the Node entry, and the largest difference between two
// corrections in the generator's own units (its [−1, 1] output scale), where 1e-5 is meaningful for any bit depth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGenerator } from '../../src/train/run_folder.js';
import { readImage, type Image } from '../../src/data/image.js';
import { correctImage, runSettings, type CorrectSettings } from '../../src/correct/correct.js';
import type { Normalization } from '../../src/data/normalize.js';
import type { RlInput } from '../../src/model/richardson_lucy.js';

export const ROOT = join(import.meta.dirname, '../..');
export const PARITY_TOL = 1e-5;

export interface ParityCase { image: string; model: string; rlInput?: RlInput }

/** The two parity cases of the issue, a 16-bit TIFF (1-channel model) and an RGB JPEG (3-channel model), and the TIFF
 *  through a corrector with a Richardson–Lucy input stage (train --rl-input), which runs before the network. */
export const PARITY_CASES: readonly ParityCase[] = [
  { image: 'test/fixtures/data_io/u16_lzw.tif', model: 'fluorescence' },
  { image: 'test/fixtures/data_io/rgb444.jpg', model: 'brightfield' },
  { image: 'test/fixtures/data_io/u16_lzw.tif', model: 'fluorescence', rlInput: { sigma: 1.5, iterations: 5 } },
];

export const caseName = (c: ParityCase) => `${c.image} with ${c.model}${c.rlInput ? ' and an RL input stage' : ''}`;

export function modelBytes(model: string): Uint8Array {
  return readFileSync(join(ROOT, 'models', model, 'generator.safetensors'));
}

/** A case's settings from a run's: float output (input units, unclipped: the generator's values before any rounding
 *  to the input's type), and the case's RL input stage if it has one. */
export function caseSettings(run: CorrectSettings, c: ParityCase): CorrectSettings {
  return { ...run, ...(c.rlInput ? { rlInput: c.rlInput } : {}), dtype: 'float32' };
}

export async function nodeCorrection(c: ParityCase): Promise<{ input: Image; output: Float32Array; normalization: Normalization }> {
  const { generator, config } = await loadGenerator(`pretrained:${c.model}`);
  try {
    const input = await readImage(join(ROOT, c.image));
    const r = await correctImage(generator, input, caseSettings(runSettings(config), c));
    return { input, output: r.image.data as Float32Array, normalization: r.normalization };
  } finally {
    generator.dispose();
  }
}

/** max |a − b| over the image, in generator units: input units × 2 / (width of the normalisation's range). */
export function maxDiffInGeneratorUnits(a: ArrayLike<number>, b: ArrayLike<number>, n: Normalization): number {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} and ${b.length}`);
  const width = n.kind === 'range' ? n.max - n.min : n.high - n.low;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return (max * 2) / width;
}
