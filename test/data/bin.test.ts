import { describe, it, expect } from 'vitest';
import { binPlanes, binImage, binnedSize, unbinPlanes } from '../../src/data/bin.js';
import { fixtureCases, loadFixture, inputData, relError } from '../helpers/oracle.js';
import type { Image } from '../../src/data/image_type.js';

// Tolerance: float32 sums of ≤ 16 values and two float32 lerps against float64 oracles.
const TOL = 1e-6;

describe('binning against block means (scikit-image block_reduce where blocks tile the image)', () => {
  for (const name of fixtureCases('binning').filter((n) => n.startsWith('bin_'))) {
    it(name, () => {
      const fx = loadFixture('binning', name);
      const [c, h, w] = fx.inputs.x.shape;
      const out = binPlanes(inputData(fx.inputs.x), c, w, h, fx.params.factor);
      expect(relError(out, fx.outputs.y)).toBeLessThan(TOL);
    });
  }
});

describe('unbinning against scikit-image resize (order 1, edge)', () => {
  for (const name of fixtureCases('binning').filter((n) => n.startsWith('unbin_'))) {
    it(name, () => {
      const fx = loadFixture('binning', name);
      const [c, h, w] = fx.outputs.y.shape;
      const out = unbinPlanes(inputData(fx.inputs.x), c, w, h, fx.params.factor);
      expect(relError(out, fx.outputs.y)).toBeLessThan(TOL);
    });
  }
});

describe('binning of images and edge cases', () => {
  it('integer images keep their bit depth, means rounded; channels stay interleaved', () => {
    const img: Image = { width: 3, height: 2, channels: 3, bitDepth: 8, data: Uint8Array.from([1, 10, 100, 2, 20, 200, 9, 90, 9, 3, 30, 50, 4, 40, 60, 7, 70, 7]) };
    const b = binImage(img, 2);
    expect([b.width, b.height, b.bitDepth, b.data.constructor]).toEqual([2, 1, 8, Uint8Array]);
    // block 0: pixels (0,0) (1,0) (0,1) (1,1); block 1: the right column's two pixels
    expect(Array.from(b.data)).toEqual([3, 25, 103, 8, 80, 8]);
  });
  it('float images stay float, unrounded', () => {
    const img: Image = { width: 2, height: 1, channels: 1, bitDepth: 32, data: Float32Array.from([0.25, 0.5]) };
    expect(Array.from(binImage(img, 2).data)).toEqual([0.375]);
  });
  it('factor 1 returns its input, and sizes round up', () => {
    const p = Float32Array.from([1, 2, 3]);
    expect(binPlanes(p, 1, 3, 1, 1)).toBe(p);
    expect(unbinPlanes(p, 1, 3, 1, 1)).toBe(p);
    expect(binnedSize(1921, 1200, 4)).toEqual({ width: 481, height: 300 });
  });
  it('a constant stays constant both ways on sizes that are not multiples', () => {
    const p = new Float32Array(2 * 7 * 11).fill(0.3);
    const b = binPlanes(p, 2, 11, 7, 4);
    expect(b.length).toBe(2 * 2 * 3);
    for (const v of b) expect(v).toBeCloseTo(0.3, 6);
    const u = unbinPlanes(b, 2, 11, 7, 4);
    expect(u.length).toBe(p.length);
    for (const v of u) expect(v).toBeCloseTo(0.3, 6);
  });
  it('a 1-pixel binned axis is held, not interpolated', () => {
    expect(Array.from(unbinPlanes(Float32Array.from([5]), 1, 3, 2, 3))).toEqual([5, 5, 5, 5, 5, 5]);
  });
  it('refuses factors that are not positive integers, and sizes that do not match', () => {
    expect(() => binPlanes(new Float32Array(4), 1, 2, 2, 0)).toThrow(/positive integer/);
    expect(() => binPlanes(new Float32Array(4), 1, 2, 2, 1.5)).toThrow(/positive integer/);
    expect(() => unbinPlanes(new Float32Array(4), 1, 8, 8, 2)).toThrow(/unbinPlanes: 4 values/);
  });
});
