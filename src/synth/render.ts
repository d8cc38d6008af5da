// Image formation for synthetic data: specimen ⊗ defocus PSF (FFT convolution), then a camera with Poisson shot
// noise, Gaussian read noise, an offset and 8/16-bit quantisation.
// Fluorescence: incoherent emission, so the emitter density is convolved with the intensity PSF exactly.
// Bright-field: the transmittance of each colour channel is convolved with the same incoherent PSF at that channel's
// wavelength. This is an approximation: real bright-field imaging is partially coherent (condenser aperture) and
// phase objects gain contrast with defocus, which an incoherent model does not show; absorbing stains dominate here.
import type { Image } from '../data/image.js';
import type { Rng } from '../data/rng.js';
import { fft2d, nextPow2 } from './fft.js';
import type { Kernel } from './psf.js';
import type { Specimen } from './specimens.js';

export interface Camera {
  /** Expected photoelectrons at intensity 1 (fluorescence: the specimen's peak; bright-field: full transmission). */
  photons: number;
  /** Read noise, electrons RMS. */
  readNoise: number;
  /** Dark level in ADU. */
  offset: number;
  bitDepth: 8 | 16;
}

/** ADU per electron: intensity 1 lands at 90 % of full scale above the offset, leaving headroom for noise. */
export function cameraGain(c: Camera): number {
  const full = c.bitDepth === 8 ? 255 : 65535;
  return (0.9 * full - c.offset) / c.photons;
}

export function checkCamera(c: Camera): void {
  const full = c.bitDepth === 8 ? 255 : c.bitDepth === 16 ? 65535 : NaN;
  if (Number.isNaN(full)) throw new Error(`camera: bitDepth must be 8 or 16, got ${c.bitDepth}`);
  if (!(Number.isFinite(c.photons) && c.photons > 0)) throw new Error(`camera: photons must be a positive number, got ${c.photons}`);
  if (!(Number.isFinite(c.readNoise) && c.readNoise >= 0)) throw new Error(`camera: readNoise must be ≥ 0, got ${c.readNoise}`);
  if (!(Number.isFinite(c.offset) && c.offset >= 0 && c.offset < 0.5 * full)) {
    throw new Error(`camera: offset must be in [0, ${0.5 * full}) ADU for ${c.bitDepth}-bit, got ${c.offset}`);
  }
}

/**
 * Linear convolution of a row-major width×height plane with a centred odd kernel, same-size output, zero outside.
 * Two FFTs: the image and the kernel travel as the real and imaginary parts of one complex array, and their
 * spectra are separated by Hermitian symmetry.
 */
export function convolve(plane: Float32Array, width: number, height: number, kernel: Kernel): Float32Array {
  if (plane.length !== width * height) throw new Error(`convolve: plane has ${plane.length} values, expected ${width}×${height}`);
  const { size, data: k } = kernel;
  if (size % 2 !== 1 || k.length !== size * size) throw new Error(`convolve: kernel must be odd-sized and square, got size ${size} with ${k.length} values`);
  const r = (size - 1) / 2;
  const nx = nextPow2(width + r);
  const ny = nextPow2(height + r);
  const re = new Float64Array(nx * ny);
  const im = new Float64Array(nx * ny);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) re[y * nx + x] = plane[y * width + x];
  for (let dy = -r; dy <= r; dy++) {
    const row = ((dy + ny) % ny) * nx;
    for (let dx = -r; dx <= r; dx++) im[row + ((dx + nx) % nx)] = k[(dy + r) * size + dx + r];
  }
  fft2d(re, im, nx, ny);
  // With p = Z[k], q = conj Z[−k]: A = (p + q)/2, B = (p − q)/(2i), so A·B = −i·(p² − q²)/4.
  const pr = new Float64Array(nx * ny);
  const pi = new Float64Array(nx * ny);
  for (let y = 0; y < ny; y++) {
    const my = ((ny - y) % ny) * nx;
    for (let x = 0; x < nx; x++) {
      const a = y * nx + x;
      const b = my + ((nx - x) % nx);
      const p0 = re[a];
      const p1 = im[a];
      const q0 = re[b];
      const q1 = -im[b];
      const d0 = p0 * p0 - p1 * p1 - (q0 * q0 - q1 * q1);
      const d1 = 2 * p0 * p1 - 2 * q0 * q1;
      pr[a] = d1 / 4;
      pi[a] = -d0 / 4;
    }
  }
  fft2d(pr, pi, nx, ny, true);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = pr[y * nx + x];
  return out;
}

/** The specimen seen through the optics: each channel convolved with its own PSF (psfs[c]), planar C×H×W. */
export function blurSpecimen(spec: Specimen, psfs: readonly Kernel[]): Float32Array {
  const { width: w, height: h, channels } = spec;
  if (psfs.length !== channels) throw new Error(`blurSpecimen: need one PSF per channel (${channels}), got ${psfs.length}`);
  const out = new Float32Array(channels * w * h);
  for (let c = 0; c < channels; c++) out.set(convolve(spec.planes.subarray(c * w * h, (c + 1) * w * h), w, h, psfs[c]), c * w * h);
  return out;
}

/**
 * Records intensity (planar C×H×W, 1 = `photons` electrons) with the camera: electrons ~ Poisson(photons·I) plus
 * N(0, readNoise²), ADU = offset + gain·electrons (cameraGain), rounded and clipped to the bit depth. Interleaved.
 * Without noise (a clean target), electrons are their expectation photons·I.
 */
export function expose(planes: Float32Array, channels: 1 | 3, width: number, height: number, camera: Camera, rng: Rng, noise = true): Image {
  checkCamera(camera);
  const n = width * height;
  if (planes.length !== channels * n) throw new Error(`expose: planes has ${planes.length} values, expected ${channels}×${width}×${height}`);
  const full = camera.bitDepth === 8 ? 255 : 65535;
  const gain = cameraGain(camera);
  const data = camera.bitDepth === 8 ? new Uint8Array(channels * n) : new Uint16Array(channels * n);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < channels; c++) {
      const mean = camera.photons * Math.max(0, planes[c * n + p]);
      const e = noise ? poisson(mean, rng) + camera.readNoise * gaussian(rng) : mean;
      data[p * channels + c] = Math.min(full, Math.max(0, Math.round(camera.offset + gain * e)));
    }
  }
  return { width, height, channels, bitDepth: camera.bitDepth, data };
}

export function gaussian(rng: Rng): number {
  const u1 = 1 - rng.next(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.next());
}

/** Poisson(lambda) sample: Knuth's product method below 10, Hörmann's PTRS (transformed rejection) above. */
export function poisson(lambda: number, rng: Rng): number {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new Error(`poisson: lambda must be a finite number ≥ 0, got ${lambda}`);
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = rng.next();
    while (p > limit) {
      k++;
      p *= rng.next();
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

const LOG_FACT = (() => {
  const t = new Float64Array(16);
  for (let k = 2; k < 16; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
})();

/** ln(k!) exactly below 16, by Stirling's series (error < 1e-10) above. */
function logFactorial(k: number): number {
  if (k < 16) return LOG_FACT[k];
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k) - 1 / (360 * k * k * k);
}
