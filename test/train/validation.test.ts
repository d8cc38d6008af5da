// Validation of `train --keep best`: central windows of the held-out pairs; its scores are the evaluation convention's PSNR (eval/convention.ts, itself tested
// against CSBDeep / scikit-image): on C×H×W planes they equal scoreNormalized's on the same image interleaved.
import { describe, it, expect } from 'vitest';
import { hash32 } from '../../src/graph/random.js';
import { scoreNormalized } from '../../src/eval/convention.js';
import { conventionPsnr, validationSet, VALIDATION_PAIRS } from '../../src/train/validation.js';
import type { Dataset, DatasetImage } from '../../src/data/dataset.js';

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
      expect(Math.abs(conventionPsnr(pred, truth, size, size, channels) - expected)).toBeLessThan(1e-9);
    }
  });

  it('is unchanged by the gain and offset of the prediction (the least-squares map), and infinite for an affine copy', () => {
    const size = 16;
    const truth = noise(size * size, 3);
    const pred = truth.map((t, i) => t + 0.1 * noise(size * size, 4)[i]);
    const a = conventionPsnr(pred, truth, size, size, 1);
    expect(Math.abs(conventionPsnr(pred.map((v) => 5 * v - 2), truth, size, size, 1) - a)).toBeLessThan(1e-4);
    expect(conventionPsnr(truth.map((v) => 2 * v + 1), truth, size, size, 1)).toBeGreaterThan(100);
  });
});

describe('validationSet', () => {
  const image = (width: number, height: number, planes: Float32Array): DatasetImage =>
    ({ file: 'x.png', width, height, channels: 1, bitDepth: 8, normalization: { kind: 'fixed', low: 0, high: 255 } as never, planes });
  const ramp = (w: number, h: number) => Float32Array.from({ length: w * h }, (_, i) => (i % w) + 1000 * Math.floor(i / w));
  const dataset = (pairs: [DatasetImage, DatasetImage][]): Dataset =>
    ({ layout: 'paired', root: '/', source: pairs.map((p) => p[0]), target: pairs.map((p) => p[1]), pairs: pairs.map(([source, target], i) => ({ key: `k${i}`, source, target })), unmatched: [], keys: pairs.map((_, i) => `k${i}`) } as Dataset);

  it('takes the central window, ≤ 512 and a multiple of the generator\'s, and skips flat targets', () => {
    const big = ramp(700, 530);
    const v = validationSet(dataset([[image(700, 530, big), image(700, 530, big)], [image(30, 30, new Float32Array(900)), image(30, 30, new Float32Array(900))]]), 0, 4)!;
    expect(v.images).toHaveLength(1);
    const { width, height, source } = v.images[0];
    expect([width, height]).toEqual([512, 512]);
    // Rows 9…520 and columns 94…605 of the 700×530 ramp: value x + 1000 y.
    expect([source[0], source[511], source[512], source[512 * 512 - 1]]).toEqual([94 + 9000, 605 + 9000, 94 + 10000, 605 + 520000]);
    expect(v.inputPsnr).toBeGreaterThan(100); // the source equals its target
    const odd = validationSet(dataset([[image(70, 45, ramp(70, 45)), image(70, 45, ramp(70, 45))]]), 0, 32)!;
    expect([odd.images[0].width, odd.images[0].height]).toEqual([64, 32]);
    expect(validationSet(dataset([[image(70, 20, ramp(70, 20)), image(70, 20, ramp(70, 20))]]), 0, 32)).toBeNull();
  });

  it(`scores at most ${VALIDATION_PAIRS} pairs, the same ones for a seed`, () => {
    const pairs = Array.from({ length: 20 }, (_, i): [DatasetImage, DatasetImage] => [image(8, 8, ramp(8, 8).map((v) => v + i)), image(8, 8, ramp(8, 8))]);
    const a = validationSet(dataset(pairs), 3, 4)!;
    expect(a.images).toHaveLength(VALIDATION_PAIRS);
    expect(validationSet(dataset(pairs), 3, 4)!.images.map((v) => v.source[0])).toEqual(a.images.map((v) => v.source[0]));
  });
});
