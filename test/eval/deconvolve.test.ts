// Richardson–Lucy against scikit-image 0.19.3 restoration.richardson_lucy (scripts/fixtures/deconvolve.py): every
// pixel within 1e-4 absolute (the image is in 0.05…1; ours runs in float32, skimage in float64). Then the PSFs,
// whole images, the σ fit on synthetic pairs and `comi deconvolve`.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { useGpu } from '../helpers/gpu.js';
import { richardsonLucy, gaussianPsf, fitRichardsonLucy, deconvolveImage, type Psf } from '../../src/eval/deconvolve.js';
import { scoreNormalized } from '../../src/eval/convention.js';
import { parseDeconvolveFlags, USAGE } from '../../src/cli/deconvolve.js';
import { UsageError } from '../../src/cli/errors.js';
import { hash32 } from '../../src/graph/random.js';
import { readImage, writeImage, type Image } from '../../src/data/image.js';
import { normalize } from '../../src/data/normalize.js';
import { networkInput, runSettings } from '../../src/correct/core.js';
import type { RunConfig } from '../../src/train/run_folder.js';

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

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

describe('richardsonLucy = skimage.restoration.richardson_lucy', () => {
  const image = { width: FX.width, height: FX.height, planes: 1, data: f32(FX.image) };
  for (const cs of FX.cases) {
    it(`${cs.psf}, ${cs.iterations} iteration(s), clip ${cs.clip}${cs.filterEpsilon ? `, filter_epsilon ${cs.filterEpsilon}` : ''}`, async () => {
      const p = FX.psfs[cs.psf];
      const psf: Psf = { width: p.width, height: p.height, data: f32(p.values) };
      const ours = await richardsonLucy(image, psf, { iterations: cs.iterations, clip: cs.clip, filterEpsilon: cs.filterEpsilon ?? undefined });
      expect(maxAbsDiff(ours, f32(cs.values))).toBeLessThanOrEqual(TOL);
    });
  }

  // gauss9 is exp(−(x² + y²) / 2σ²), σ 1.5, normalised: the product of the two 1-D factors below.
  const taps = Array.from({ length: 9 }, (_, i) => Math.exp(-((i - 4) ** 2) / (2 * 1.5 ** 2)));
  const factor = taps.map((v) => v / taps.reduce((a, b) => a + b, 0));
  for (const cs of FX.cases.filter((c) => c.psf === 'gauss9')) {
    it(`gauss9 as two 1-D passes (separable), ${cs.iterations} iteration(s), clip ${cs.clip}${cs.filterEpsilon ? `, filter_epsilon ${cs.filterEpsilon}` : ''}`, async () => {
      const p = FX.psfs.gauss9;
      const psf: Psf = { width: p.width, height: p.height, data: f32(p.values), separable: { rows: factor, columns: factor } };
      const ours = await richardsonLucy(image, psf, { iterations: cs.iterations, clip: cs.clip, filterEpsilon: cs.filterEpsilon ?? undefined });
      expect(maxAbsDiff(ours, f32(cs.values))).toBeLessThanOrEqual(TOL);
    });
  }

  it('gaussianPsf is separable: its factors multiply to its values', () => {
    const g = gaussianPsf(2.3);
    expect(g.separable?.rows.length).toBe(g.width);
    let worst = 0;
    for (let y = 0; y < g.height; y++) for (let x = 0; x < g.width; x++) worst = Math.max(worst, Math.abs(g.separable!.columns[y] * g.separable!.rows[x] - g.data[y * g.width + x]));
    expect(worst).toBeLessThanOrEqual(1e-15);
  });

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
    await expect(richardsonLucy(image, { ...gaussianPsf(1), separable: { rows: [1, 1, 1], columns: [1] } }, { iterations: 1 })).rejects.toThrow(/separable PSF: 1×3 factors for a 7×7 PSF/);
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

  it(`recovers the σ (${SIGMA} px) of pairs blurred with a known Gaussian within ±15 %, and goes on past 30 iterations while more gain`, async () => {
    let trials = 0;
    const fit = await fitRichardsonLucy(pairs, { onTrial: (n) => { trials = n; } });
    expect(Math.abs(fit.sigma - SIGMA) / SIGMA).toBeLessThanOrEqual(0.15);
    expect(trials).toBeGreaterThan(9);
    const before = scoreNormalized(pairs[0].source, pairs[0].target).psnr;
    expect(fit.psnr).toBeGreaterThan(before + 3);
    // These pairs have no noise but 16-bit rounding: RL gains past 30 iterations, so the default counts go on.
    const kept = await fitRichardsonLucy(pairs, { iterations: [5, 10, 20, 30] });
    expect(kept.iterations).toBe(30);
    expect([60, 120, 240]).toContain(fit.iterations);
    expect(fit.psnr).toBeGreaterThan(kept.psnr);
  }, 120_000);

  it('goes on past the default σ range while the best σ is its top (10 px blur), and keeps a given range', async () => {
    const wide = 64;
    const WIDE_SIGMA = 10;
    const widePairs = [1, 2].map((seed) => {
      const v = field(wide, seed);
      return { source: u16(blur(v, wide, WIDE_SIGMA), wide), target: u16(v, wide) };
    });
    const fit = await fitRichardsonLucy(widePairs, { iterations: [50] });
    expect(fit.sigma).toBeGreaterThan(8);
    expect(Math.abs(fit.sigma - WIDE_SIGMA) / WIDE_SIGMA).toBeLessThanOrEqual(0.15);
    const kept = await fitRichardsonLucy(widePairs, { iterations: [50], sigmaRange: [0.5, 8] });
    expect(kept.sigma).toBeLessThanOrEqual(8 + 1e-9);
    expect(fit.psnr).toBeGreaterThan(kept.psnr);
  }, 300_000);

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

  it("a corrector's RL input stage (deconvolveNormalized, networkInput) is deconvolveImage in the network's units (1e-5)", async () => {
    const { source } = pairs[0];
    const rl = { sigma: 1.5, iterations: 7 };
    const settings = runSettings({ data: { normalization: 'auto', percentiles: { pLow: 0.1, pHigh: 99.9 } }, model: {} } as unknown as RunConfig);
    const plain = await networkInput(source, settings);
    const staged = await networkInput(source, { ...settings, rlInput: rl });
    const whole = await deconvolveImage(source, gaussianPsf(rl.sigma), { iterations: rl.iterations, dtype: 'float32' });
    // deconvolveImage undoes the same percentile mapping on output: map it back and compare.
    const expected = normalize(whole, plain.normalization);
    expect(staged.normalization).toEqual(plain.normalization);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(staged.planes[i] - expected[i]));
    expect(worst).toBeLessThan(1e-5);
    expect(Math.max(...staged.planes.map((v, i) => Math.abs(v - plain.planes[i])))).toBeGreaterThan(0.05);
  });

  it('rejects bad pairs and options with one line', async () => {
    await expect(fitRichardsonLucy([])).rejects.toThrow(/no image pairs given/);
    const small = u16(new Float64Array(100), 10);
    await expect(fitRichardsonLucy([{ source: pairs[0].source, target: small }])).rejects.toThrow(/pair 0: source is 48×48×1, target 10×10×1/);
    await expect(fitRichardsonLucy(pairs, { iterations: [10, 10] })).rejects.toThrow(/distinct positive integers, got 10, 10/);
    await expect(fitRichardsonLucy(pairs, { sigmaRange: [3, 1] })).rejects.toThrow(/sigmaRange must be 0 < min < max ≤ 100, got 3, 1/);
  });
});

describe('comi deconvolve', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'comi-deconvolve-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Dawn's own diagnostics go to stderr from C++ ("Warning: …" and an "at …cpp" line); everything else is ours.
  const dawnLog = (line: string) => line === '' || line.startsWith('Warning: ') || /^\s+at \S+ \(.*\.cpp:\d+\)$/.test(line);
  const comi = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href, join(ROOT, 'src', 'cli', 'main.ts'), 'deconvolve', ...args], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, COMI_DEBUG: '' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !dawnLog(l) && !/\[[#.]+\]/.test(l)) };
  };

  it('bad flags: one line, exit 2', () => {
    const cases: [string[], string][] = [
      [['--out', 'o', 'a.png'], 'no PSF: give --psf FILE, --psf-sigma PX, --psf-optics NA,WAVELENGTH,INDEX,PIXEL,Z or --fit-pairs DIR'],
      [['--psf', 'p.png', '--psf-sigma', '2', '--out', 'o', 'a.png'], 'give one PSF source, got --psf and --psf-sigma'],
      [['--psf-sigma', '0', '--out', 'o', 'a.png'], "--psf-sigma must be > 0, got '0'"],
      [['--psf-optics', '0.75,0.52', '--out', 'o', 'a.png'], "--psf-optics takes 5 comma-separated numbers, got '0.75,0.52'"],
      [['--psf-optics', '1.2,0.52,1,0.3,2', '--out', 'o', 'a.png'], '--psf-optics: optics: na must be below the refractive index, got na 1.2 ≥ index 1'],
      [['--psf-sigma', '2', '--source', 'a', '--out', 'o', 'a.png'], '--source applies to --fit-pairs only'],
      [['--fit-pairs', 'd', '--source', 'a'], '--fit-pairs DIR needs --source A and --target B: the out-of-focus and in-focus folders under DIR'],
      [['--fit-pairs', 'd', '--source', 'a', '--target', 'b', '--iterations', '5'], '--fit-pairs chooses the iteration count: give the candidates with --fit-iterations instead of --iterations'],
      [['--fit-pairs', 'd', '--source', 'a', '--target', 'b', '--sigma-range', '4,1'], "--sigma-range takes MIN,MAX with 0 < MIN < MAX ≤ 100, got '4,1'"],
      [['--fit-pairs', 'd', '--source', 'a', '--target', 'b', '--fit-iterations', '5,x'], "--fit-iterations takes a list of comma-separated numbers, got '5,x'"],
      [['--psf-sigma', '2', 'a.png'], '--out DIR is required (the folder to write deconvolved images to)'],
      [['--psf-sigma', '2', '--out', 'o'], 'no input images given (files, folders or globs after the options)'],
      [['--psf-sigma', '2', '--iterations', '0', '--out', 'o', 'a.png'], "--iterations must be ≥ 1, got '0'"],
      [['--psf-sigma', '2', '--dtype', 'int8', '--out', 'o', 'a.png'], "--dtype must be one of same, uint8, uint16, float32, got 'int8'"],
      [['--psf-sigma', '2', '--name', '{x}', '--out', 'o', 'a.png'], '--name: unknown placeholder {x}'],
      [['--psf-sigma', '2', '--bogus', '--out', 'o', 'a.png'], "Unknown option '--bogus'"],
    ];
    for (const [args, msg] of cases) {
      expect(() => parseDeconvolveFlags(args), args.join(' ')).toThrow(msg);
      try {
        parseDeconvolveFlags(args);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        expect((err as Error).message).not.toContain('\n');
      }
    }
    expect(parseDeconvolveFlags(['--help'])).toBeNull();
    const r = comi('--psf-sigma', '2', '--out', 'o');
    expect([r.status, r.stderr]).toEqual([2, ['comi deconvolve: no input images given (files, folders or globs after the options)']]);
    const help = comi('--help');
    expect(help.status).toBe(0);
    expect(help.stdout.split('\n')[0]).toBe(USAGE);
  });

  it('writes each input at its size, channels and bit depth; a PSF image, optics and a bad input', async () => {
    const input = join(dir, 'in');
    mkdirSync(input);
    const v = field(40, 3);
    await writeImage(join(input, 'gray.tif'), u16(blur(v, 40, 1.5), 40));
    await writeImage(join(input, 'rgb.png'), { width: 30, height: 20, channels: 3, bitDepth: 8, data: Uint8Array.from({ length: 1800 }, (_, i) => 30 + (hash32(i, 4) % 150)) });
    const out = join(dir, 'out');
    const r = comi('--psf-sigma', '1.5', '--iterations', '5', '--out', out, input);
    expect([r.status, r.stderr]).toEqual([0, []]);
    expect(r.stdout).toMatch(/^Gaussian PSF σ 1.5 px \(11×11\), 5 iterations; 2 image\(s\) → .*, dtype same\n/);
    expect(r.stdout).toMatch(/deconvolved 2 image\(s\) into /);
    const gray = await readImage(join(out, 'gray.tif'));
    const rgb = await readImage(join(out, 'rgb.png'));
    expect([gray.width, gray.height, gray.channels, gray.bitDepth]).toEqual([40, 40, 1, 16]);
    expect([rgb.width, rgb.height, rgb.channels, rgb.bitDepth]).toEqual([30, 20, 3, 8]);

    const psfFile = join(dir, 'psf.png');
    const g = gaussianPsf(1.5);
    const peak = Math.max(...Array.from(g.data));
    await writeImage(psfFile, { width: g.width, height: g.height, channels: 1, bitDepth: 8, data: Uint8Array.from(Array.from(g.data), (x) => Math.round((255 * x) / peak)) });
    writeFileSync(join(dir, 'bad.png'), 'not a png');
    const file = comi('--psf', psfFile, '--iterations', '5', '--dtype', 'float32', '--out', out, join(input, 'gray.tif'), join(input, 'rgb.png'), join(dir, 'bad.png'), join(dir, 'missing.png'));
    expect(file.status).toBe(1);
    expect(file.stderr).toEqual([
      `failed: ${join(dir, 'missing.png')}: no such file or folder`,
      `failed: ${join(input, 'gray.tif')}: ${join(out, 'gray.tif')} exists; pass --overwrite to replace it`,
      `failed: ${join(dir, 'bad.png')}: not supported: file format of ${join(dir, 'bad.png')} (not a PNG, JPEG or TIFF file)`,
      'comi deconvolve: 3 input(s) failed (listed above); 1 written',
    ]);
    const rgbFloat = await readImage(join(out, 'rgb.tif'));
    expect([rgbFloat.width, rgbFloat.height, rgbFloat.channels, rgbFloat.bitDepth]).toEqual([30, 20, 3, 32]);

    const optics = comi('--psf-optics', '0.5,0.52,1,0.5,1', '--iterations', '3', '--name', '{name}_rl{ext}', '--out', out, join(input, 'rgb.png'));
    expect([optics.status, optics.stderr]).toEqual([0, []]);
    expect(optics.stdout).toMatch(/^defocus PSF NA 0.5, λ 0.52 µm, n 1, pixel 0.5 µm, z 1 µm \(\d+×\d+\)/);
    expect(readdirSync(out).sort()).toEqual(['gray.tif', 'rgb.png', 'rgb.tif', 'rgb_rl.png']);
    const psfBad = comi('--psf', join(dir, 'bad.png'), '--out', out, join(input, 'gray.tif'), '--overwrite');
    expect([psfBad.status, psfBad.stderr]).toEqual([1, [`comi deconvolve: not supported: file format of ${join(dir, 'bad.png')} (not a PNG, JPEG or TIFF file)`]]);
  }, 240_000);

  it('--fit-pairs prints the fitted σ and iterations', async () => {
    const root = join(dir, 'pairs');
    for (const f of ['blurred', 'clear']) mkdirSync(join(root, f), { recursive: true });
    for (const seed of [5, 6]) {
      const v = field(40, seed);
      await writeImage(join(root, 'blurred', `f${seed}.tif`), u16(blur(v, 40, 2), 40));
      await writeImage(join(root, 'clear', `f${seed}.tif`), u16(v, 40));
    }
    const r = comi('--fit-pairs', root, '--source', 'blurred', '--target', 'clear', '--fit-iterations', '10,30', '--sigma-range', '1,4');
    expect([r.status, r.stderr]).toEqual([0, []]);
    const m = /fitted: σ (\d+\.\d+) px, (\d+) iterations, mean PSNR \d+\.\d\d dB \(normalized: /.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Math.abs(Number(m![1]) - 2) / 2).toBeLessThanOrEqual(0.15);
    expect(r.stdout).toMatch(/same as: --psf-sigma \d+\.\d+ --iterations (10|30)\n/);
  }, 120_000);
});
