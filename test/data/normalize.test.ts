import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Image } from '../../src/data/image.js';
import { fitNormalization, normalize, denormalize, percentiles, remap, type Normalization } from '../../src/data/normalize.js';
import { hash32, hashUniform } from '../../src/graph/random.js';

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'data_io', 'manifest.json'), 'utf8'));

function hashedImage(width: number, height: number, channels: 1 | 3, bitDepth: 8 | 16 | 32, seed: number): Image {
  const n = width * height * channels;
  const data = bitDepth === 32 ? hashUniform(n, seed, 100) : bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  if (bitDepth !== 32) for (let i = 0; i < n; i++) data[i] = hash32(i, seed);
  return { width, height, channels, bitDepth, data };
}

describe('percentiles against numpy.percentile', () => {
  for (const c of manifest.percentiles) {
    const { seed, dtype, shape } = c.image;
    it(`${dtype} ${shape.join('×')}`, () => {
      const bitDepth = ({ uint8: 8, uint16: 16, float32: 32 } as const)[dtype as 'uint8'];
      const img = hashedImage(shape[1], shape[0], (shape[2] ?? 1) as 1 | 3, bitDepth, seed);
      if (c.skewSquare) img.data = (img.data as Uint16Array).map((v) => Math.floor((v * v) / 65535));
      const ours = percentiles(img, c.p);
      ours.forEach((v, k) => expect(Math.abs(v - c.values[k])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(c.values[k]))));
    });
  }
  it('ignores NaN in float images', () => {
    const img: Image = { width: 4, height: 1, channels: 1, bitDepth: 32, data: new Float32Array([NaN, 3, 1, 2]) };
    expect(percentiles(img, [0, 50, 100])).toEqual([1, 2, 3]);
    img.data.fill(NaN);
    expect(() => percentiles(img, [50])).toThrow('all NaN');
  });
});

describe('fitNormalization', () => {
  it('picks the range by mode', () => {
    expect(fitNormalization(hashedImage(3, 2, 1, 8, 1), '8bit')).toEqual({ kind: 'range', min: 0, max: 255 });
    expect(fitNormalization(hashedImage(3, 2, 3, 16, 1), '16bit-range')).toEqual({ kind: 'range', min: 0, max: 65535 });
    const img = hashedImage(10, 10, 1, 16, 5);
    const [low, high] = percentiles(img, [0.1, 99.9]);
    expect(fitNormalization(img, 'percentile')).toEqual({ kind: 'percentile', low, high, pLow: 0.1, pHigh: 99.9 });
    expect(fitNormalization(img, 'percentile', { pLow: 2, pHigh: 99.8 })).toMatchObject({ pLow: 2, pHigh: 99.8 });
  });
  it('rejects a mode that does not fit the image, and bad percentiles', () => {
    expect(() => fitNormalization(hashedImage(3, 2, 1, 16, 1), '8bit')).toThrow('mode 8bit is for 8-bit images, got a 16-bit image (use 16bit-range)');
    expect(() => fitNormalization(hashedImage(3, 2, 1, 32, 1), '16bit-range')).toThrow('(use percentile)');
    expect(() => fitNormalization(hashedImage(3, 2, 1, 8, 1), 'gamma' as never)).toThrow('mode must be 8bit, 16bit-range or percentile, got gamma');
    expect(() => fitNormalization(hashedImage(3, 2, 1, 8, 1), 'percentile', { pLow: 50, pHigh: 10 })).toThrow('0 ≤ pLow < pHigh ≤ 100');
  });
});

describe('normalize / denormalize', () => {
  it('maps 8-bit /255 onto [−1, 1], planar C×H×W', () => {
    const img: Image = { width: 2, height: 1, channels: 3, bitDepth: 8, data: new Uint8Array([0, 51, 255, 102, 204, 0]) };
    const x = normalize(img, { kind: 'range', min: 0, max: 255 });
    const f = (v: number) => Math.fround((v * 2) / 255 - 1);
    expect(Array.from(x)).toEqual([0, 102, 51, 204, 255, 0].map(f)); // R plane, G plane, B plane
  });
  const cases: Array<[string, Image, Normalization['kind'] | '8bit' | '16bit-range' | 'percentile']> = [
    ['8-bit range', hashedImage(31, 17, 3, 8, 2), '8bit'],
    ['16-bit full range', hashedImage(31, 17, 1, 16, 3), '16bit-range'],
    ['16-bit percentiles (values beyond them too)', hashedImage(31, 17, 3, 16, 4), 'percentile'],
    ['8-bit percentiles', hashedImage(31, 17, 1, 8, 5), 'percentile'],
  ];
  for (const [name, img, mode] of cases) {
    it(`${name}: denormalize(normalize(x)) = x exactly`, () => {
      const n = fitNormalization(img, mode as '8bit');
      const back = denormalize(normalize(img, n), n, img.bitDepth, img.channels);
      expect(back.constructor).toBe(img.data.constructor);
      expect(Array.from(back)).toEqual(Array.from(img.data));
    });
  }
  it('float images come back to float32 precision', () => {
    const img = hashedImage(13, 7, 3, 32, 6);
    const n = fitNormalization(img, 'percentile');
    const back = denormalize(normalize(img, n), n, 32, 3) as Float32Array;
    // Two float32 roundings (of the normalised value, |x| ≲ 1, then of the result) times the half-span ≈ 100.
    const tol = 2 * 2 ** -24 * 100 * 2;
    back.forEach((v, i) => expect(Math.abs(v - img.data[i])).toBeLessThanOrEqual(tol));
  });
  it('clips and rounds into the output type', () => {
    const n: Normalization = { kind: 'range', min: 0, max: 255 };
    const x = new Float32Array([-1.5, -1, 1, 1.5, 0, (2 * 100.4) / 255 - 1, (2 * 100.6) / 255 - 1]);
    expect(Array.from(denormalize(x, n, 8, 1))).toEqual([0, 0, 255, 255, 128, 100, 101]);
    const m: Normalization = { kind: 'percentile', low: 1000, high: 3000, pLow: 0.1, pHigh: 99.9 };
    expect(Array.from(denormalize(new Float32Array([-1, 0, 1, -3, 80]), m, 16, 1))).toEqual([1000, 2000, 3000, 0, 65535]);
  });
  it('a constant image stays invertible', () => {
    const img: Image = { width: 3, height: 3, channels: 1, bitDepth: 16, data: new Uint16Array(9).fill(700) };
    const n = fitNormalization(img, 'percentile');
    expect(n).toMatchObject({ low: 700, high: 700 });
    const x = normalize(img, n);
    expect(Array.from(x)).toEqual(Array(9).fill(-1));
    expect(Array.from(denormalize(x, n, 16, 1))).toEqual(Array(9).fill(700));
  });
  it('rejects bad arguments', () => {
    const n: Normalization = { kind: 'range', min: 0, max: 255 };
    expect(() => denormalize(new Float32Array(5), n, 8, 3)).toThrow('5 values do not split into 3 planes');
    expect(() => denormalize(new Float32Array(3), n, 12 as 8, 1)).toThrow('bitDepth must be 8, 16 or 32, got 12');
    expect(() => normalize(hashedImage(2, 2, 1, 8, 1), { kind: 'range', min: 5, max: 1 })).toThrow('invalid range 5..1');
  });
});

describe('remap', () => {
  it('takes values normalised by one mapping to the same raw values under another (percentile → percentile, → range)', () => {
    const data = Uint16Array.from(hashUniform(400, 17, 1), (v) => Math.round(300 + 200 * v));
    const img: Image = { width: 20, height: 20, channels: 1, bitDepth: 16, data };
    const bright: Image = { ...img, data: Uint16Array.from(data, (v) => v * 2 + 50) };
    const from = fitNormalization(bright, 'percentile');
    for (const to of [fitNormalization(img, 'percentile'), fitNormalization(img, '16bit-range')]) {
      const [a, b] = remap(from, to);
      const mapped = normalize(bright, from).map((v) => a * v + b);
      const direct = normalize(bright, to);
      mapped.forEach((v, i) => expect(v).toBeCloseTo(direct[i], 5));
    }
  });
});
