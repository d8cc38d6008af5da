// Validation scores of `train --keep best` are the evaluation convention's PSNR (eval/convention.ts, itself tested
// against CSBDeep / scikit-image): on C×H×W planes they equal scoreNormalized's on the same image interleaved.
import { describe, it, expect } from 'vitest';
import { hash32 } from '../../src/graph/random.js';
import { scoreNormalized } from '../../src/eval/convention.js';
import { conventionPsnr } from '../../src/train/validation.js';

const noise = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => hash32(i, seed) / 2 ** 32 - 0.5);

describe('conventionPsnr', () => {
  it('equals scoreNormalized on the interleaved image, 1 and 3 channels (≤ 1e-9 dB)', () => {
    const size = 24;
    for (const channels of [1, 3] as const) {
      const n = size * size;
      const truth = noise(channels * n, 1);
      const pred = truth.map((t, i) => 3 * t + 0.7 + 0.2 * noise(channels * n, 2)[i]);
      const interleave = (planes: Float32Array) => Float32Array.from({ length: channels * n }, (_, i) => planes[(i % channels) * n + Math.floor(i / channels)]);
      const expected = scoreNormalized(interleave(pred), { width: size, height: size, channels, bitDepth: 32, data: interleave(truth) }).psnr;
      expect(Math.abs(conventionPsnr(pred, truth, size, channels) - expected)).toBeLessThan(1e-9);
    }
  });

  it('is unchanged by the gain and offset of the prediction (the least-squares map), and infinite for an affine copy', () => {
    const size = 16;
    const truth = noise(size * size, 3);
    const pred = truth.map((t, i) => t + 0.1 * noise(size * size, 4)[i]);
    const a = conventionPsnr(pred, truth, size, 1);
    expect(Math.abs(conventionPsnr(pred.map((v) => 5 * v - 2), truth, size, 1) - a)).toBeLessThan(1e-4);
    expect(conventionPsnr(truth.map((v) => 2 * v + 1), truth, size, 1)).toBeGreaterThan(100);
  });
});
