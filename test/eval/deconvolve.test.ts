// Richardson–Lucy against scikit-image 0.19.3 restoration.richardson_lucy (scripts/fixtures/deconvolve.py): every
// pixel within 1e-4 absolute (the image is in 0.05…1; ours runs in float32, skimage in float64). Then the PSFs,
// whole images, the σ fit on synthetic pairs and `comi deconvolve`.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { richardsonLucy, gaussianPsf, fitRichardsonLucy, deconvolveImage, type Psf } from '../../src/eval/deconvolve.js';
import { scoreNormalized } from '../../src/eval/convention.js';
import { hash32 } from '../../src/graph/random.js';
import type { Image } from '../../src/data/image.js';

useGpu();

const TOL = 1e-4;

const f32 = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

interface Fixture {
  width: number;
  height: number;
  image: string;
  psfs: Record<string, { width: number; height: number; values: string }>;
  cases: { psf: string; iterations: number; clip: boolean; filterEpsilon: number | null; maxAbs: number; values: string }[];
}

const FX: Fixture = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'deconvolve', 'cases.json'), 'utf8'));

describe('richardsonLucy = skimage.restoration.richardson_lucy', () => {
  const image = { width: FX.width, height: FX.height, planes: 1, data: f32(FX.image) };
  for (const cs of FX.cases) {
    it(`${cs.psf}, ${cs.iterations} iteration(s), clip ${cs.clip}${cs.filterEpsilon ? `, filter_epsilon ${cs.filterEpsilon}` : ''}`, async () => {
      const p = FX.psfs[cs.psf];
      const psf: Psf = { width: p.width, height: p.height, data: f32(p.values) };
      const ours = await richardsonLucy(image, psf, { iterations: cs.iterations, clip: cs.clip, filterEpsilon: cs.filterEpsilon ?? undefined });
      const ref = f32(cs.values);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]));
      expect(worst).toBeLessThanOrEqual(TOL);
    });
  }

  it('processes planes independently (channels in the batch)', async () => {
    const one = f32(FX.image);
    const two = new Float32Array(2 * one.length);
    two.set(one);
    two.set(one.map((v) => 1.2 - v), one.length);
    const psf = gaussianPsf(1.2);
    const both = await richardsonLucy({ width: FX.width, height: FX.height, planes: 2, data: two }, psf, { iterations: 3, clip: false });
    const second = await richardsonLucy({ width: FX.width, height: FX.height, planes: 1, data: two.slice(one.length) }, psf, { iterations: 3, clip: false });
    for (let i = 0; i < one.length; i += 97) expect(both[one.length + i]).toBeCloseTo(second[i], 6);
  });

  it('rejects bad PSFs and images with one line', async () => {
    const image = { width: 4, height: 4, planes: 1, data: new Float32Array(16).fill(1) };
    await expect(richardsonLucy(image, { width: 2, height: 2, data: [0, 0, 0, 0] }, { iterations: 1 })).rejects.toThrow(/PSF is all zeros/);
    await expect(richardsonLucy(image, { width: 2, height: 2, data: [1, -1, 0, 0] }, { iterations: 1 })).rejects.toThrow(/non-negative, got -1 at 1,0/);
    await expect(richardsonLucy(image, { width: 3, height: 2, data: [1, 1] }, { iterations: 1 })).rejects.toThrow(/PSF has 2 values, expected 3×2 = 6/);
    await expect(richardsonLucy({ ...image, planes: 2 }, gaussianPsf(1), { iterations: 1 })).rejects.toThrow(/needs width·height·planes values, got 4×4×2 and 16/);
    await expect(richardsonLucy(image, gaussianPsf(1), { iterations: 1.5 })).rejects.toThrow(/iterations must be non-negative integers, got 1.5/);
    expect(() => gaussianPsf(0)).toThrow(/sigma must be a number of pixels in \(0, 100\], got 0/);
  });
});

/** A 16-bit fluorescence-like field: camera offset 100, blobs and lines up to ~3000. */
function field(size: number, seed: number): Float64Array {
  const v = new Float64Array(size * size);
  const blobs = Array.from({ length: 12 }, (_, k) => [hash32(k, seed) % size, hash32(k + 50, seed) % size, 1 + (hash32(k + 100, seed) % 3)]);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = Math.abs(x - y - 5) < 1 ? 0.5 : 0;
      for (const [bx, by, r] of blobs) s += Math.exp(-((x - bx) ** 2 + (y - by) ** 2) / (2 * r * r));
      v[y * size + x] = s;
    }
  }
  return v;
}

/** Blur by a Gaussian, on the CPU; the scene continues beyond the field (mirrored, as numpy.pad 'reflect'). */
function blur(v: Float64Array, size: number, sigma: number): Float64Array {
  const p = gaussianPsf(sigma);
  const r = (p.width - 1) / 2;
  const out = new Float64Array(v.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const yy = Math.abs(y - dy) - (y - dy >= size ? 2 * (y - dy - size + 1) : 0);
          const xx = Math.abs(x - dx) - (x - dx >= size ? 2 * (x - dx - size + 1) : 0);
          s += v[yy * size + xx] * p.data[(dy + r) * p.width + dx + r];
        }
      }
      out[y * size + x] = s;
    }
  }
  return out;
}

const u16 = (v: Float64Array, size: number): Image => ({
  width: size, height: size, channels: 1, bitDepth: 16, data: Uint16Array.from(v, (s) => Math.round(100 + 3000 * s)),
});

describe('fitRichardsonLucy and deconvolveImage', () => {
  const size = 48;
  const SIGMA = 2;
  const pairs = [1, 2].map((seed) => {
    const v = field(size, seed);
    return { source: u16(blur(v, size, SIGMA), size), target: u16(v, size) };
  });

  it(`recovers the σ (${SIGMA} px) of pairs blurred with a known Gaussian within ±15 %`, async () => {
    let trials = 0;
    const fit = await fitRichardsonLucy(pairs, { onTrial: (n) => { trials = n; } });
    expect(Math.abs(fit.sigma - SIGMA) / SIGMA).toBeLessThanOrEqual(0.15);
    expect([5, 10, 20, 30]).toContain(fit.iterations);
    expect(trials).toBeGreaterThan(9);
    const before = scoreNormalized(pairs[0].source, pairs[0].target).psnr;
    expect(fit.psnr).toBeGreaterThan(before + 3);
  }, 120_000);

  it('deconvolveImage keeps size, channels and bit depth, and improves the normalized PSNR', async () => {
    const { source, target } = pairs[0];
    const out = await deconvolveImage(source, gaussianPsf(SIGMA), { iterations: 20 });
    expect([out.width, out.height, out.channels, out.bitDepth]).toEqual([size, size, 1, 16]);
    expect(out.data).toBeInstanceOf(Uint16Array);
    expect(scoreNormalized(out, target).psnr).toBeGreaterThan(scoreNormalized(source, target).psnr + 3);
    const rgb: Image = { width: 16, height: 12, channels: 3, bitDepth: 8, data: Uint8Array.from({ length: 16 * 12 * 3 }, (_, i) => 20 + (hash32(i, 3) % 200)) };
    const o = await deconvolveImage(rgb, gaussianPsf(1), { iterations: 2, dtype: 'float32' });
    expect([o.width, o.height, o.channels, o.bitDepth]).toEqual([16, 12, 3, 32]);
  });

  it('rejects bad pairs and options with one line', async () => {
    await expect(fitRichardsonLucy([])).rejects.toThrow(/no image pairs given/);
    const small = u16(new Float64Array(100), 10);
    await expect(fitRichardsonLucy([{ source: pairs[0].source, target: small }])).rejects.toThrow(/pair 0: source is 48×48×1, target 10×10×1/);
    await expect(fitRichardsonLucy(pairs, { iterations: [10, 10] })).rejects.toThrow(/distinct positive integers, got 10, 10/);
    await expect(fitRichardsonLucy(pairs, { sigmaRange: [3, 1] })).rejects.toThrow(/sigmaRange must be 0 < min < max ≤ 100, got 3, 1/);
  });
});
