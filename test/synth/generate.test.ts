// Synthetic sets: byte-exact reproducibility, the layouts the trainer's reader loads, defocus that really blurs,
// camera noise statistics, and the CLI's validation.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage, type Image } from '../../src/data/image.js';
import { loadDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/data/rng.js';
import { generateSynth, renderField, SYNTH_DEFAULTS, type SynthManifest, type SynthOptions } from '../../src/synth/generate.js';
import { cameraGain, expose, poisson, type Camera } from '../../src/synth/render.js';
import { makeSpecimen } from '../../src/synth/specimens.js';
import { synthCommand, parseSynthFlags } from '../../src/cli/synth.js';
import { UsageError } from '../../src/cli/errors.js';

let tmp: string;
let n = 0;
const fresh = () => join(tmp, `set${n++}`);
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'comi-synth-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const small = (kind: 'fluorescence' | 'brightfield', over: Partial<SynthOptions> = {}): SynthOptions => ({ ...SYNTH_DEFAULTS[kind], count: 2, size: 48, ...over });

/** All files under dir (relative path → bytes). */
function tree(dir: string, base = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of tree(dir, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

/** Mean squared difference of horizontal and vertical neighbours over all channels: high for sharp images. */
function gradientEnergy(img: Image): number {
  const { width: w, height: h, channels: c, data } = img;
  let s = 0;
  let k = 0;
  for (let y = 0; y < h - 1; y++) {
    for (let x = 0; x < w - 1; x++) {
      for (let ch = 0; ch < c; ch++) {
        const i = (y * w + x) * c + ch;
        s += (data[i + c] - data[i]) ** 2 + (data[i + w * c] - data[i]) ** 2;
        k++;
      }
    }
  }
  return s / k;
}

describe('generateSynth', () => {
  it('same seed → identical bytes in every file; another seed → different images', async () => {
    const a = fresh();
    const b = fresh();
    const c = fresh();
    await generateSynth(a, small('fluorescence'));
    await generateSynth(b, small('fluorescence'));
    await generateSynth(c, small('fluorescence', { seed: 1 }));
    const ta = tree(a);
    const tb = tree(b);
    expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort());
    for (const [k, v] of ta) expect(v.equals(tb.get(k)!), k).toBe(true);
    expect(ta.get('blurred/field_0001.png')!.equals(tree(c).get('blurred/field_0001.png')!)).toBe(false);
  });

  it('paired layout: blurred/ and clear/ with matching names, a manifest, and the trainer’s reader loads it', async () => {
    const dir = fresh();
    const m = await generateSynth(dir, small('fluorescence', { count: 3 }));
    const names = ['field_0001.png', 'field_0002.png', 'field_0003.png'];
    expect(readdirSync(join(dir, 'blurred')).sort()).toEqual(names);
    expect(readdirSync(join(dir, 'clear')).sort()).toEqual(names);
    const onDisk: SynthManifest = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8'));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(m)));
    expect(m.dataset).toEqual({ layout: 'paired', source: 'blurred', target: 'clear' });
    expect(m.images.map((i) => i.name)).toEqual(names);
    for (const im of m.images) expect(Math.abs(im.defocus!)).toBeGreaterThanOrEqual(1);
    for (const im of m.images) expect(Math.abs(im.defocus!)).toBeLessThanOrEqual(3);
    expect(m.seed).toBe(0);
    expect(m.camera.gain).toBeCloseTo(cameraGain(SYNTH_DEFAULTS.fluorescence.camera), 12);
    const img = await readImage(join(dir, 'blurred', names[0]));
    expect([img.width, img.height, img.channels, img.bitDepth]).toEqual([48, 48, 1, 8]);
    const ds = await loadDataset({ root: dir, layout: 'paired', source: 'blurred', target: 'clear' });
    expect(ds.pairs.length).toBe(3);
    expect(ds.unmatched).toEqual([]);
  });

  it('zstack layout: Z001 … Z007 with Z004 in focus at 0.6 µm spacing, loadable with inFocus Z004', async () => {
    const dir = fresh();
    const m = await generateSynth(dir, small('fluorescence', { layout: 'zstack' }));
    const folders = ['Z001', 'Z002', 'Z003', 'Z004', 'Z005', 'Z006', 'Z007'];
    expect(readdirSync(dir).sort()).toEqual([...folders, 'synth.json']);
    for (const f of folders) expect(readdirSync(join(dir, f)).sort()).toEqual(['field_0001.png', 'field_0002.png']);
    expect(m.dataset).toEqual({ layout: 'zstack', inFocus: 'Z004' });
    expect(m.zstack!.planes.map((p) => p.folder)).toEqual(folders);
    m.zstack!.planes.forEach((p, k) => expect(p.z).toBeCloseTo((k - 3) * 0.6, 12));
    const ds = await loadDataset({ root: dir, layout: 'zstack', inFocus: 'Z004' });
    expect(ds.pairs.length).toBe(12);
    expect(new Set(ds.keys)).toEqual(new Set(['field_0001', 'field_0002']));
  });

  it('bright-field: RGB on a light background; 16-bit output', async () => {
    const dir = fresh();
    await generateSynth(dir, small('brightfield', { camera: { ...SYNTH_DEFAULTS.brightfield.camera, bitDepth: 16, offset: 100 } }));
    const img = await readImage(join(dir, 'clear', 'field_0001.png'));
    expect([img.channels, img.bitDepth]).toEqual([3, 16]);
    const sorted = Float64Array.from(img.data).sort();
    expect(sorted[Math.floor(sorted.length / 2)]).toBeGreaterThan(0.6 * 65535); // the median pixel is background
  });

  it('blurred images are blurrier than clear ones (lower gradient energy), for both kinds', () => {
    // A small field can be empty (noise only: equal energies), so each field may only match its clear image within
    // noise, and the set as a whole must lose most of its gradient energy.
    for (const kind of ['fluorescence', 'brightfield'] as const) {
      const o = small(kind, { size: 128, count: 4 });
      let sumBlurred = 0;
      let sumClear = 0;
      for (let i = 0; i < o.count; i++) {
        const [blurred, clear] = renderField(o, i).planes;
        expect(blurred.folder).toBe('blurred');
        const gb = gradientEnergy(blurred.image);
        const gc = gradientEnergy(clear.image);
        expect(gb, `${kind} field ${i}`).toBeLessThan(1.05 * gc);
        sumBlurred += gb;
        sumClear += gc;
      }
      expect(sumBlurred, kind).toBeLessThan(0.6 * sumClear);
    }
  });

  it('in a z-stack, sharpness peaks at the in-focus plane and falls off on both sides', () => {
    const o = small('fluorescence', { layout: 'zstack', size: 64, count: 1, camera: { photons: 20000, readNoise: 1, offset: 100, bitDepth: 16 } });
    const g = renderField(o, 0).planes.map((p) => gradientEnergy(p.image));
    for (let k = 0; k < 3; k++) expect(g[k]).toBeLessThan(g[k + 1]);
    for (let k = 3; k < 6; k++) expect(g[k + 1]).toBeLessThan(g[k]);
  });

  it('refuses a non-empty folder; with overwrite it replaces a previous set (no stale files left)', async () => {
    const dir = fresh();
    await generateSynth(dir, small('fluorescence', { count: 3 }));
    await expect(generateSynth(dir, small('fluorescence'))).rejects.toThrow(/is not empty/);
    await generateSynth(dir, small('fluorescence', { layout: 'zstack', count: 1, planes: 3, inFocus: 2 }), { overwrite: true });
    expect(readdirSync(dir).sort()).toEqual(['Z001', 'Z002', 'Z003', 'synth.json']);
  });

  it('specimens are reproducible from their seed and differ between seeds', () => {
    for (const kind of ['fluorescence', 'brightfield'] as const) {
      const a = makeSpecimen(kind, { width: 40, height: 30, pixelSize: 0.16, seed: 3 });
      const b = makeSpecimen(kind, { width: 40, height: 30, pixelSize: 0.16, seed: 3 });
      const c = makeSpecimen(kind, { width: 40, height: 30, pixelSize: 0.16, seed: 4 });
      expect(a.planes).toEqual(b.planes);
      expect(a.planes).not.toEqual(c.planes);
      expect(a.planes.length).toBe((kind === 'brightfield' ? 3 : 1) * 40 * 30);
      expect(Math.min(...a.planes)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...a.planes)).toBeLessThanOrEqual(1);
    }
  });
});

describe('camera noise', () => {
  // Statistical oracles: sample mean and variance against the distribution's, within 5 standard errors.
  it('poisson() has mean λ and variance λ on both sides of the sampler switch (λ < 10 product, λ ≥ 10 PTRS)', () => {
    const rng = new Rng(11);
    const N = 100_000;
    for (const lambda of [0.5, 3, 9.5, 10, 40, 1000]) {
      let s = 0;
      let s2 = 0;
      let bad = 0;
      for (let i = 0; i < N; i++) {
        const k = poisson(lambda, rng);
        if (!(Number.isInteger(k) && k >= 0)) bad++;
        s += k;
        s2 += k * k;
      }
      expect(bad, 'non-integer or negative draws').toBe(0);
      const mean = s / N;
      const variance = s2 / N - mean * mean;
      expect(Math.abs(mean - lambda), `mean at λ ${lambda}`).toBeLessThan(5 * Math.sqrt(lambda / N));
      // Var of the sample variance ≈ (μ4 − σ⁴)/N with μ4 = λ(1 + 3λ) for a Poisson variable.
      expect(Math.abs(variance - lambda), `variance at λ ${lambda}`).toBeLessThan(5 * Math.sqrt((lambda * (1 + 3 * lambda) - lambda * lambda) / N));
    }
  });

  it('expose(): ADU mean = offset + gain·photons·I and variance = gain²·(photons·I + readNoise²)', () => {
    const camera: Camera = { photons: 400, readNoise: 3, offset: 100, bitDepth: 16 };
    const gain = cameraGain(camera);
    const w = 256;
    const h = 256;
    const I = 0.5;
    const img = expose(new Float32Array(w * h).fill(I), 1, w, h, camera, new Rng(5));
    let s = 0;
    let s2 = 0;
    for (const v of img.data) {
      s += v;
      s2 += v * v;
    }
    const N = w * h;
    const mean = s / N;
    const variance = s2 / N - mean * mean;
    const e = camera.photons * I;
    const sigma2 = gain * gain * (e + camera.readNoise ** 2) + 1 / 12; // + rounding to integers
    expect(Math.abs(mean - (camera.offset + gain * e))).toBeLessThan(5 * Math.sqrt(sigma2 / N));
    expect(Math.abs(variance / sigma2 - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
  });

  it('a clean target: the clear image is the expected ADU (no noise) and the blurred image is byte-identical to the noisy set', async () => {
    const o = small('fluorescence', { bitDepth: 16, camera: { photons: 300, readNoise: 2, offset: 100, bitDepth: 16 } } as Partial<SynthOptions>);
    const noisy = renderField(o, 0);
    const clean = renderField({ ...o, cleanTarget: true }, 0);
    const louder = renderField({ ...o, cleanTarget: true, camera: { ...o.camera, readNoise: 20 } }, 0);
    expect(clean.planes[0].image.data).toEqual(noisy.planes[0].image.data);
    expect(louder.planes[1].image.data).toEqual(clean.planes[1].image.data);
    expect(louder.planes[0].image.data).not.toEqual(clean.planes[0].image.data);
    // The noisy clear image scatters around the clean one with the camera's variance, gain²·(photons·I + read²).
    const gain = cameraGain(o.camera);
    let z = 0;
    const [a, b] = [noisy.planes[1].image.data, clean.planes[1].image.data];
    for (let i = 0; i < a.length; i++) {
      const electrons = Math.max(0, (b[i] - o.camera.offset) / gain);
      z += (a[i] - b[i]) ** 2 / (gain * gain * (electrons + o.camera.readNoise ** 2) + 1 / 6);
    }
    expect(Math.abs(z / a.length - 1)).toBeLessThan(0.1);
    await expect(generateSynth(fresh(), { ...o, layout: 'zstack', cleanTarget: true })).rejects.toThrow(/clean target is for the paired layout/);
  });

  it('8-bit exposure clips to [0, 255]', () => {
    const img = expose(Float32Array.from([0, 0.5, 1, 3]), 1, 4, 1, { photons: 1000, readNoise: 0, offset: 5, bitDepth: 8 }, new Rng(1));
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect(img.data[3]).toBe(255);
    expect(img.data[0]).toBe(5);
  });
});

describe('comi synth (CLI)', () => {
  const usage = async (argv: string[], message: RegExp) => {
    const err = await synthCommand(argv).then(() => null, (e: unknown) => e);
    expect(err, argv.join(' ')).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  };

  it('rejects bad flags with one clear line', async () => {
    await usage([], /--out DIR is required/);
    await usage(['--out', fresh(), '--size=-5'], /--size must be ≥ 16, got '-5'/);
    await usage(['--out', fresh(), '--size', '-5'], /^--size must be ≥ 16, got '-5'$/);
    await usage(['--out', fresh(), '--count', '0'], /--count must be ≥ 1/);
    await usage(['--out', fresh(), '--na', '1.2'], /--na must be below --index/);
    await usage(['--out', fresh(), '--na', '1.4', '--index', '1.33'], /NA 1\.4 ≥ n 1\.33/);
    await usage(['--out', fresh(), '--layout', 'stack'], /--layout must be one of paired, zstack, got 'stack'/);
    await usage(['--out', fresh(), '--kind', 'phase'], /--kind must be one of fluorescence, brightfield/);
    await usage(['--out', fresh(), '--bit-depth', '12'], /--bit-depth must be one of 8, 16/);
    await usage(['--out', fresh(), '--defocus=-1'], /--defocus takes \|z\|/);
    await usage(['--out', fresh(), '--defocus', '3:1'], /MIN ≤ MAX/);
    await usage(['--out', fresh(), '--planes', '5'], /--planes applies to --layout zstack only/);
    await usage(['--out', fresh(), '--layout', 'zstack', '--planes', '5', '--in-focus', '6'], /--in-focus must be ≤ 5/);
    await usage(['--out', fresh(), '--layout', 'zstack', '--defocus', '2'], /--defocus applies to --layout paired only/);
    await usage(['--out', fresh(), '--layout', 'zstack', '--clean-target'], /--clean-target applies to --layout paired only/);
    await usage(['--out', fresh(), '--wavelength', '520'], /in µm/);
    await usage(['--out', fresh(), '--kind', 'brightfield', '--wavelength', '0.5'], /three µm values R,G,B/);
    await usage(['--out', fresh(), '--structures', 'nuclei,golgi'], /got 'golgi'/);
    await usage(['--out', fresh(), '--pixel-size', '0'], /--pixel-size must be > 0/);
    await usage(['--out', fresh(), '--defocus', '400'], /limit 1025/);
    await usage(['--out', fresh(), '--bogus'], /Unknown option '--bogus'/);
  });

  it('refuses a non-empty --out without --overwrite', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await usage(['--out', dir, '--count', '1', '--size', '32'], /is not empty; .*--overwrite/);
    const file = join(tmp, 'a-file');
    writeFileSync(file, '');
    await usage(['--out', file], /is a file, not a folder/);
  });

  it('parses defaults and flags into generator options', () => {
    const p = parseSynthFlags(['--out', 'x', '--layout', 'zstack', '--planes', '9', '--kind', 'brightfield', '--bit-depth', '16'])!;
    expect(p.options.inFocus).toBe(5); // the middle plane by default
    expect(p.options.wavelengths).toEqual([0.61, 0.53, 0.47]);
    expect(p.options.camera).toEqual({ photons: 5000, readNoise: 2, offset: 100, bitDepth: 16 });
    expect(parseSynthFlags(['--out', 'x', '--defocus', '2'])!.options.defocus).toEqual([2, 2]);
    expect(parseSynthFlags(['--out', 'x', '--help'])).toBeNull();
  });

  it('writes a set and the manifest records the flags', async () => {
    const dir = fresh();
    await synthCommand(['--out', dir, '--count', '2', '--size', '32', '--seed', '9', '--defocus', '1.5:2', '--structures', 'nuclei']);
    const m: SynthManifest = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8'));
    expect(m.seed).toBe(9);
    expect(m.structures).toEqual(['nuclei']);
    expect(m.paired!.defocusRange).toEqual([1.5, 2]);
    expect(existsSync(join(dir, 'blurred', 'field_0002.png'))).toBe(true);
  });
});
