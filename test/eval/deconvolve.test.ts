// Richardson–Lucy against scikit-image 0.19.3 restoration.richardson_lucy (scripts/fixtures/deconvolve.py): every
// pixel within 1e-4 absolute (the image is in 0.05…1; ours runs in float32, skimage in float64). Then the PSFs,
// whole images, the σ fit on synthetic pairs and `comi deconvolve`.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { richardsonLucy, gaussianPsf, type Psf } from '../../src/eval/deconvolve.js';

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
