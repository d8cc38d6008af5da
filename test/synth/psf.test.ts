// The synthetic-data optics: FFT against a direct DFT, the defocus PSF against numpy (same discretisation) and the
// continuous Hankel-transform model (scripts/fixtures/synth.py), its physics (Airy FWHM, energy, symmetry, growth
// with defocus), and the FFT convolution against torch conv2d.
import { describe, it, expect } from 'vitest';
import { fft, fft2d, nextPow2 } from '../../src/synth/fft.js';
import { defocusPsf, fwhm, psfSize, type Kernel, type Optics } from '../../src/synth/psf.js';
import { convolve } from '../../src/synth/render.js';
import { hashUniform } from '../../src/graph/random.js';
import { fixtureCases, inputData, loadFixture, relError } from '../helpers/oracle.js';
import { ORACLE_TOL } from '../helpers/gpu.js';

function dft(re: Float64Array, im: Float64Array, inverse: boolean): [Float64Array, Float64Array] {
  const n = re.length;
  const or = new Float64Array(n);
  const oi = new Float64Array(n);
  const s = inverse ? 1 : -1;
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const a = (s * 2 * Math.PI * ((j * k) % n)) / n;
      or[k] += re[j] * Math.cos(a) - im[j] * Math.sin(a);
      oi[k] += re[j] * Math.sin(a) + im[j] * Math.cos(a);
    }
    if (inverse) {
      or[k] /= n;
      oi[k] /= n;
    }
  }
  return [or, oi];
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('fft', () => {
  for (const n of [1, 2, 4, 8, 16, 64, 256]) {
    for (const inverse of [false, true]) {
      it(`length ${n} ${inverse ? 'inverse' : 'forward'} equals the direct DFT`, () => {
        const re = Float64Array.from(hashUniform(n, 7 + n));
        const im = Float64Array.from(hashUniform(n, 9 + n));
        const [er, ei] = dft(re, im, inverse);
        fft(re, im, inverse);
        expect(maxAbsDiff(re, er)).toBeLessThan(1e-12 * n);
        expect(maxAbsDiff(im, ei)).toBeLessThan(1e-12 * n);
      });
    }
  }

  it('fft2d equals the 2-D direct DFT (rows then columns) on 8×4, and the inverse restores the input', () => {
    const w = 8;
    const h = 4;
    const re = Float64Array.from(hashUniform(w * h, 3));
    const im = Float64Array.from(hashUniform(w * h, 4));
    const want = { re: new Float64Array(w * h), im: new Float64Array(w * h) };
    for (let ky = 0; ky < h; ky++) {
      for (let kx = 0; kx < w; kx++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const a = -2 * Math.PI * ((kx * x) / w + (ky * y) / h);
            want.re[ky * w + kx] += re[y * w + x] * Math.cos(a) - im[y * w + x] * Math.sin(a);
            want.im[ky * w + kx] += re[y * w + x] * Math.sin(a) + im[y * w + x] * Math.cos(a);
          }
        }
      }
    }
    const r2 = re.slice();
    const i2 = im.slice();
    fft2d(r2, i2, w, h);
    expect(maxAbsDiff(r2, want.re)).toBeLessThan(1e-12);
    expect(maxAbsDiff(i2, want.im)).toBeLessThan(1e-12);
    fft2d(r2, i2, w, h, true);
    expect(maxAbsDiff(r2, re)).toBeLessThan(1e-14);
    expect(maxAbsDiff(i2, im)).toBeLessThan(1e-14);
  });

  it('rejects lengths that are not powers of two; nextPow2 pads', () => {
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow(/power of two, got 6/);
    expect(nextPow2(1)).toBe(1);
    expect(nextPow2(5)).toBe(8);
    expect(nextPow2(512)).toBe(512);
  });
});

const optics = (p: Record<string, number>): Optics => ({ na: p.na, wavelength: p.wavelength, index: p.index, pixelSize: p.pixelSize });

describe('defocusPsf against numpy (same discretisation: pupil on the FFT grid, |IFFT|², block sums)', () => {
  for (const name of fixtureCases('synth').filter((c) => c.startsWith('psf_disc_'))) {
    it(name, () => {
      const fx = loadFixture('synth', name);
      const p = fx.params;
      const psf = defocusPsf(optics(p), p.z, { size: p.size, oversample: p.oversample, grid: p.grid });
      expect(psf.size).toBe(p.size);
      expect(relError(Float32Array.from(psf.data), fx.outputs.psf)).toBeLessThan(ORACLE_TOL);
    });
  }
});

describe('defocusPsf against the continuous model (Hankel transform of the circular pupil, pixel-integrated)', () => {
  // The default sampling (≥ 32 pupil samples per radius, soft-rimmed circle on a square grid) differs from the
  // continuous pupil by ≈ 0.05–0.2 % of the peak (measured); 0.5 % bounds that discretisation error. The
  // implementation itself is checked at 1e-4 against numpy above.
  const DISCRETISATION_TOL = 5e-3;
  for (const name of fixtureCases('synth').filter((c) => c.startsWith('psf_cont_'))) {
    it(name, () => {
      const fx = loadFixture('synth', name);
      const p = fx.params;
      const psf = defocusPsf(optics(p), p.z, { size: p.size });
      expect(relError(Float32Array.from(psf.data), fx.outputs.psf)).toBeLessThan(DISCRETISATION_TOL);
    });
  }
});

/** √(Σ r²·psf) in µm: the RMS radius, a blur measure without the on-axis intensity oscillations of defocus. */
function rmsRadius(psf: Kernel, pixelSize: number): number {
  const r = (psf.size - 1) / 2;
  let s = 0;
  for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) s += (x * x + y * y) * psf.data[(y + r) * psf.size + x + r];
  return Math.sqrt(s) * pixelSize;
}

const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);

describe('defocusPsf physics', () => {
  const fine: Optics = { na: 0.8, wavelength: 0.52, index: 1.0, pixelSize: 0.02 };

  it('in focus, the FWHM is the Airy disc’s 0.51·λ/NA (within 10 %, and 0.5145·λ/NA within 1 %)', () => {
    const w = fwhm(defocusPsf(fine, 0, { size: 41 }), fine.pixelSize);
    expect(Math.abs(w / ((0.51 * 0.52) / 0.8) - 1)).toBeLessThan(0.1);
    expect(Math.abs(w / ((0.5145 * 0.52) / 0.8) - 1)).toBeLessThan(0.01);
  });

  it('fwhm measures a sampled Gaussian (FWHM 2.3548·σ) to sub-pixel accuracy', () => {
    const size = 41;
    const sigma = 3.3; // pixels
    const data = new Float64Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = Math.exp(-((x - 20) ** 2 + (y - 20) ** 2) / (2 * sigma * sigma));
    expect(fwhm({ size, data }, 0.1) / (2.3548 * sigma * 0.1)).toBeCloseTo(1, 2);
  });

  it('sums to 1 (energy conserved), for every defocus, default and explicit sizes', () => {
    const o: Optics = { na: 1.3, wavelength: 0.6, index: 1.515, pixelSize: 0.1 };
    for (const z of [0, 0.3, -1.2, 2.5]) {
      expect(sum(defocusPsf(o, z).data)).toBeCloseTo(1, 12);
      expect(sum(defocusPsf(o, z, { size: 15 }).data)).toBeCloseTo(1, 12);
    }
  });

  it('blur (RMS radius) grows monotonically with |z|, and the default size follows the geometric cone', () => {
    const o: Optics = { na: 0.8, wavelength: 0.52, index: 1.0, pixelSize: 0.1 };
    let last = 0;
    for (let z = 0; z <= 3.001; z += 0.25) {
      const r = rmsRadius(defocusPsf(o, z, { size: 101 }), o.pixelSize);
      expect(r).toBeGreaterThan(last);
      last = r;
    }
    // Far from focus it approaches geometric optics: rays uniform over the pupil disc |k| ≤ NA/λ land at
    // r = z·tan θ, so ⟨r²⟩ = z²·⟨tan²θ⟩ = z²·(−s − ln(1 − s))/s with s = (NA/n)².
    const s = (o.na / o.index) ** 2;
    const geometric = 3 * Math.sqrt((-s - Math.log(1 - s)) / s);
    expect(rmsRadius(defocusPsf(o, 3, { size: 121 }), o.pixelSize) / geometric).toBeCloseTo(1, 1);
    expect(psfSize(o, 3)).toBeGreaterThan(psfSize(o, 1));
  });

  it('PSF(z) equals PSF(−z) for this aberration-free model, and is symmetric under x ↔ y and x ↔ −x', () => {
    const o: Optics = { na: 0.9, wavelength: 0.5, index: 1.33, pixelSize: 0.08 };
    for (const z of [0.4, 1.7]) {
      const a = defocusPsf(o, z);
      const b = defocusPsf(o, -z);
      expect(maxAbsDiff(a.data, b.data)).toBeLessThan(1e-12);
      const n = a.size;
      let asym = 0;
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          asym = Math.max(asym, Math.abs(a.data[y * n + x] - a.data[x * n + y]), Math.abs(a.data[y * n + x] - a.data[y * n + n - 1 - x]));
        }
      }
      expect(asym).toBeLessThan(1e-12);
    }
  });

  it('rejects NA ≥ refractive index, non-positive lengths and even sizes', () => {
    expect(() => defocusPsf({ na: 1.0, wavelength: 0.5, index: 1.0, pixelSize: 0.1 }, 0)).toThrow(/na must be below the refractive index/);
    expect(() => defocusPsf({ na: 0.5, wavelength: -0.5, index: 1.0, pixelSize: 0.1 }, 0)).toThrow(/wavelength/);
    expect(() => defocusPsf(fine, 0, { size: 10 })).toThrow(/odd positive integer, got 10/);
    expect(() => defocusPsf(fine, Number.NaN)).toThrow(/z must be a finite number/);
  });
});

describe('convolve against torch conv2d (same size, zero padding)', () => {
  for (const name of fixtureCases('synth').filter((c) => c.startsWith('conv_'))) {
    it(name, () => {
      const fx = loadFixture('synth', name);
      const { width, height, size } = fx.params;
      const kernel = { size, data: Float64Array.from(inputData(fx.inputs.kernel)) };
      const y = convolve(inputData(fx.inputs.x), width, height, kernel);
      expect(relError(y, fx.outputs.y)).toBeLessThan(ORACLE_TOL);
    });
  }
});
