// Scalar-diffraction defocus PSF of an aberration-free widefield objective (incoherent imaging).
// Pupil P(k) = circ(|k| ≤ NA/λ) · exp(i·2π·z·sqrt((n/λ)² − |k|²)) sampled on an FFT frequency grid (rim anti-aliased); the amplitude
// h = IFFT(P) lives on a fine grid (camera pixel / oversample), its intensity |h|² is integrated over each camera
// pixel (exactly, in frequency space) and the kernel normalised to sum 1. Lengths in µm.
import { fft2d, nextPow2 } from './fft.js';

export interface Optics {
  /** Numerical aperture (0 < na < index). */
  na: number;
  /** Emission (fluorescence) or illumination (bright-field channel) wavelength in µm. */
  wavelength: number;
  /** Refractive index of the immersion medium. */
  index: number;
  /** Camera pixel size in the specimen plane, µm. */
  pixelSize: number;
}

/** A square, odd-sized, centred kernel, row-major. */
export interface Kernel {
  size: number;
  data: Float64Array;
}

export interface PsfOptions {
  /** Odd kernel size in camera pixels (default psfSize(optics, z)). */
  size?: number;
  /** Fine samples per camera pixel and axis (default: enough to sample the intensity above its Nyquist rate). */
  oversample?: number;
  /** FFT grid size in fine samples, a power of two (default from the field the PSF needs, see psfSampling). */
  grid?: number;
}

export function checkOptics(o: Optics): void {
  const pos = (v: number, what: string) => {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`optics: ${what} must be a positive number, got ${v}`);
  };
  pos(o.na, 'na');
  pos(o.wavelength, 'wavelength (µm)');
  pos(o.index, 'index');
  pos(o.pixelSize, 'pixelSize (µm)');
  if (o.na >= o.index) throw new Error(`optics: na must be below the refractive index, got na ${o.na} ≥ index ${o.index}`);
}

/** Geometric-optics blur radius |z|·tan θ of the defocused cone, µm (θ: the marginal ray's angle, sin θ = NA/n). */
export function blurRadius(o: Optics, z: number): number {
  return Math.abs(z) * (o.na / Math.sqrt(o.index * o.index - o.na * o.na));
}

/** Default odd kernel size: the geometric blur disc plus 2·λ/NA (≈ 3 Airy radii) of diffraction. */
export function psfSize(o: Optics, z: number): number {
  checkOptics(o);
  const r = Math.ceil((blurRadius(o, z) + (2 * o.wavelength) / o.na) / o.pixelSize);
  return 2 * r + 1;
}

/**
 * The fine sampling defocusPsf uses. oversample: the smallest count with fine pitch ≤ λ/(5·NA) (the intensity is
 * band-limited to 2·NA/λ, so the grid holds it without aliasing). grid: the smallest power of two whose field F
 * holds the kernel window W with the PSF's support R = blur radius + 4·λ/NA clear of its periodic copies
 * (F ≥ W/2 + R, F ≥ 2R: this also samples the defocus phase of the pupil above Nyquist), and F ≥ 32·λ/NA so the
 * pupil spans ≥ 32 samples per radius (≈ 0.2 % of the peak from the continuous model, test/synth/psf.test.ts).
 */
export function psfSampling(o: Optics, z: number, size: number): { oversample: number; grid: number } {
  const airy = o.wavelength / o.na;
  const oversample = Math.max(1, Math.ceil(o.pixelSize / (airy / 5)));
  const dx = o.pixelSize / oversample;
  const W = size * o.pixelSize;
  const R = blurRadius(o, z) + 4 * airy;
  const field = Math.max(32 * airy, W, W / 2 + R, 2 * R);
  return { oversample, grid: nextPow2(Math.max(Math.ceil(field / dx), size * oversample)) };
}

/** The defocus PSF at z µm from focus, size×size camera pixels, summing to 1. */
export function defocusPsf(o: Optics, z: number, opts: PsfOptions = {}): Kernel {
  checkOptics(o);
  if (!Number.isFinite(z)) throw new Error(`defocusPsf: z must be a finite number of µm, got ${z}`);
  const size = opts.size ?? psfSize(o, z);
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new Error(`defocusPsf: size must be an odd positive integer, got ${size}`);
  const auto = psfSampling(o, z, size);
  const os = opts.oversample ?? auto.oversample;
  const N = opts.grid ?? auto.grid;
  if (!Number.isInteger(os) || os < 1) throw new Error(`defocusPsf: oversample must be a positive integer, got ${os}`);
  if (!Number.isInteger(N) || (N & (N - 1)) !== 0 || N < size * os) {
    throw new Error(`defocusPsf: grid must be a power of two ≥ size·oversample = ${size * os}, got ${N}`);
  }

  const dx = o.pixelSize / os;
  const dk = 1 / (N * dx);
  const fc = o.na / o.wavelength;
  const kn2 = (o.index / o.wavelength) ** 2;
  const freq = (i: number) => (i < N / 2 ? i : i - N) * dk;
  const re = new Float64Array(N * N);
  const im = new Float64Array(N * N);
  for (let iy = 0; iy < N; iy++) {
    const ky = freq(iy);
    for (let ix = 0; ix < N; ix++) {
      const kx = freq(ix);
      const k = Math.hypot(kx, ky);
      // Soft pupil edge: a cell's weight ramps over one cell width across the rim (≈ the fraction of the cell inside
      // the circle), which removes most of the staircase error of a hard-edged circle on the grid.
      const weight = Math.min(1, Math.max(0, 0.5 + (fc - k) / dk));
      if (weight === 0) continue;
      const phase = 2 * Math.PI * z * Math.sqrt(Math.max(0, kn2 - k * k));
      re[iy * N + ix] = weight * Math.cos(phase);
      im[iy * N + ix] = weight * Math.sin(phase);
    }
  }
  fft2d(re, im, N, N, true);

  // Pixel integration, exact for the band-limited intensity: multiply its spectrum by the pixel's box transform
  // sinc(kx·p)·sinc(ky·p), then sample at the camera pixel centres.
  for (let i = 0; i < N * N; i++) {
    re[i] = re[i] * re[i] + im[i] * im[i];
    im[i] = 0;
  }
  fft2d(re, im, N, N);
  const box = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const a = Math.PI * freq(i) * o.pixelSize;
    box[i] = a === 0 ? 1 : Math.sin(a) / a;
  }
  for (let iy = 0; iy < N; iy++) {
    for (let ix = 0; ix < N; ix++) {
      const b = box[iy] * box[ix];
      re[iy * N + ix] *= b;
      im[iy * N + ix] *= b;
    }
  }
  fft2d(re, im, N, N, true);

  const r = (size - 1) / 2;
  const wrap = (i: number) => ((i % N) + N) % N;
  const data = new Float64Array(size * size);
  let total = 0;
  for (let py = -r; py <= r; py++) {
    for (let px = -r; px <= r; px++) {
      const v = re[wrap(py * os) * N + wrap(px * os)];
      data[(py + r) * size + px + r] = v;
      total += v;
    }
  }
  for (let i = 0; i < data.length; i++) data[i] /= total;
  return { size, data };
}

/**
 * Full width at half maximum in µm: along the four half-axes from the centre, the outermost radius where the
 * profile is still ≥ max/2, refined by linear interpolation to the next sample, averaged, doubled. (For a defocused
 * PSF with a dark centre this is the width of the whole disc.)
 */
export function fwhm(psf: Kernel, pixelSize: number): number {
  const { size, data } = psf;
  const r = (size - 1) / 2;
  let peak = 0;
  for (const v of data) peak = Math.max(peak, v);
  const half = peak / 2;
  const c = r * size + r;
  const steps = [1, -1, size, -size];
  let sum = 0;
  for (const step of steps) {
    let last = -1;
    for (let i = 0; i <= r; i++) if (data[c + i * step] >= half) last = i;
    if (last < 0 || last === r) throw new Error(`fwhm: the profile does not fall below half maximum inside the ${size}×${size} kernel`);
    const a = data[c + last * step];
    const b = data[c + (last + 1) * step];
    sum += last + (a - half) / (a - b);
  }
  return (2 * sum * pixelSize) / steps.length;
}
