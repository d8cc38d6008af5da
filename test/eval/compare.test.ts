import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { cropImage, readImage, writeImage } from '../../src/data/image.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { generateSynth, SYNTH_DEFAULTS } from '../../src/synth/generate.js';
import { compareCommand, fitMatchedIterations } from '../../src/cli/compare.js';
import { loadGenerator, readRunConfig } from '../../src/train/run_folder.js';
import { fitPairs, RL_FIT_PAIRS } from '../../src/cli/pairs.js';
import { fitRichardsonLucy, opticsPsf } from '../../src/eval/deconvolve.js';

useGpu();

let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'comi-compare-'));
  await generateSynth(join(tmp, 'train'), { ...SYNTH_DEFAULTS.fluorescence, count: 4, size: 48, seed: 1 });
  await generateSynth(join(tmp, 'test'), { ...SYNTH_DEFAULTS.fluorescence, count: 3, size: 48, seed: 2 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TINY = ['--size', '32', '--ngf', '4', '--blocks', '1', '--iters', '2', '--content', 'l1', '--adversarial-weight', '0', '--cycle-weight', '0'];

describe('comi compare', () => {
  it('trains K repeats, scores every method on every held-out pair, and a rerun reuses runs and scores', async () => {
    const out = join(tmp, 'cmp');
    const args = ['--train', join(tmp, 'train'), '--test', join(tmp, 'test'), '--out', out, '--repeats', '2', '--rl-psf', 'matched', '--', ...TINY];
    const first = await compareCommand(args);
    const all = first!.summary.filter((s) => s.bin === 'all');
    expect(all.map((s) => [s.method, s.images, s.repeats])).toEqual([['input', 3, 1], ['rl', 3, 1], ['comi', 3, 2]]);
    for (const s of all) for (const v of Object.values(s.mean)) expect(Number.isFinite(v)).toBe(true);
    const scores = () => readFileSync(join(out, 'scores.jsonl'), 'utf8').trim().split('\n');
    expect(scores()).toHaveLength(3 * (1 + 1 + 2));
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(md).toMatch(/matched, from synth.json/);
    expect(md).toMatch(/\| all \| comi − rl \| 3 \|/);
    expect(md).toContain('(seed 0…1); 2 iterations each.');
    // Each repeat's kept check (train --keep best, the default for paired data), from its summary.json.
    const kept = [0, 1].map((k) => JSON.parse(readFileSync(join(out, 'runs', `comi-${k}`, 'summary.json'), 'utf8')).kept.iteration);
    expect(md).toContain(`Generators kept (--keep best: the best check on the training pairs held out from training): iteration ${kept.join(', ')}.`);
    expect(readdirSync(out).filter((f) => f.startsWith('montage_'))).not.toHaveLength(0);
    const ckpt = join(out, 'runs', 'comi-1', 'checkpoints', 'latest.safetensors');
    const before = statSync(ckpt).mtimeMs;
    const second = await compareCommand(args);
    expect(statSync(ckpt).mtimeMs).toBe(before);
    expect(scores()).toHaveLength(12);
    expect(second!.summary).toEqual(first!.summary);

    // --model scores a given corrector without training: the same scores as that run's repeat.
    const given = await compareCommand(['--train', join(tmp, 'train'), '--test', join(tmp, 'test'), '--out', join(tmp, 'cmp-model'), '--methods', 'comi,input',
      '--model', join(out, 'runs', 'comi-0')]);
    expect(existsSync(join(tmp, 'cmp-model', 'runs', 'comi-0'))).toBe(false);
    const rows = (dir: string) => readFileSync(join(dir, 'scores.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.method === 'comi' && r.repeat === 0);
    expect(rows(join(tmp, 'cmp-model'))).toEqual(rows(out));
    expect(given!.summary.find((x) => x.method === 'comi' && x.bin === 'all')!.repeats).toBe(1);
  });

  it('fits the matched-PSF RL row past 30 iterations while more gain (pairs blurred by their PSF without noise)', async () => {
    const doc = JSON.parse(readFileSync(join(tmp, 'train', 'synth.json'), 'utf8'));
    const psf = opticsPsf({ na: doc.optics.na, index: doc.optics.index, pixelSize: doc.optics.pixelSize, wavelength: doc.optics.wavelengths[0] }, 1);
    const r = (psf.width - 1) / 2;
    const mirror = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);
    const pairs = await Promise.all(readdirSync(join(tmp, 'train', 'clear')).slice(0, 2).map(async (name) => {
      const target = await readImage(join(tmp, 'train', 'clear', name));
      const { width: w, height: h } = target;
      const blurred = new Uint16Array(w * h);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let sum = 0;
          for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) sum += psf.data[(dy + r) * psf.width + dx + r] * target.data[mirror(y - dy, h) * w + mirror(x - dx, w)];
          blurred[y * w + x] = Math.round(sum);
        }
      }
      return { name, source: { ...target, bitDepth: 16 as const, data: blurred }, target };
    }));
    const fit = await fitMatchedIterations(pairs, () => psf, () => {});
    expect([60, 120, 240]).toContain(fit.iterations);
  });

  it("trains the Table 2 baselines with the shared flags (less those each refuses) and writes the paper's layouts", async () => {
    const out = join(tmp, 'cmp-baselines');
    const flags = ['--size', '32', '--ngf', '4', '--ndf', '4', '--blocks', '1', '--iters', '2', '--content', 'l1', '--vgg', 'random'];
    const r = await compareCommand(['--train', join(tmp, 'train'), '--test', join(tmp, 'test'), '--out', out, '--repeats', '1',
      '--methods', 'pix2pix,deblurgan,cyclegan,input', '--', ...flags]);
    const all = r!.summary.filter((s) => s.bin === 'all');
    expect(all.map((s) => [s.method, s.images, s.repeats])).toEqual([['input', 3, 1], ['cyclegan', 3, 1], ['deblurgan', 3, 1], ['pix2pix', 3, 1]]);
    for (const s of all) for (const v of Object.values(s.mean)) expect(Number.isFinite(v)).toBe(true);
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(md).toMatch(/pix2pix: 1 repeats, `--method pix2pix .*`.* \(flags it refuses, left out: --blocks --content --vgg\)/);
    expect(md).toMatch(/## Table 2 layout \(all held-out images\)\n\n\| method \| PSNR \(dB\) \| SSIM \| PCC \|\n\|---\|---:\|---:\|---:\|\n\| input \| /);
    expect(md).toMatch(/\| pix2pix \| \d+\.\d\d ± /);
    expect(md).toMatch(/## Table 3 layout/);
    // Tiled correction, evaluation and export take ResNet generators: DeblurGAN's is one (with its global residual),
    // pix2pix's U-Net is refused in one line.
    const deblur = await loadGenerator(join(out, 'runs', 'deblurgan-0'));
    expect(deblur.generator.opts.globalResidual).toBe(true);
    deblur.generator.dispose();
    await expect(loadGenerator(join(out, 'runs', 'pix2pix-0'))).rejects.toThrow(/pix2pix-0\/generator\.safetensors is a pix2pix run: its U-Net generator is not supported here \(only `comi compare` corrects with it\)$/);
  });

  it('--register scores each pair on the overlap after the shift that aligns it, and keeps one radius per folder', async () => {
    // Held-out pairs whose truth window is offset by a known shift: truth pixel (x + 3, y − 2) shows input pixel (x, y).
    // Both from the in-focus images, so that the shift is unambiguous (register.test.ts covers blurred inputs).
    const shifted = join(tmp, 'shifted');
    for (const d of ['blurred', 'clear']) mkdirSync(join(shifted, d), { recursive: true });
    for (const f of readdirSync(join(tmp, 'test', 'blurred'))) {
      writeImage(join(shifted, 'blurred', f), cropImage(await readImage(join(tmp, 'test', 'clear', f)), 4, 4, 40, 40));
      writeImage(join(shifted, 'clear', f), cropImage(await readImage(join(tmp, 'test', 'clear', f)), 1, 6, 40, 40));
    }
    const args = (out: string, radius: string) => ['--train', join(tmp, 'train'), '--test', shifted, '--out', join(tmp, out), '--methods', 'input', '--register', radius];
    const plain = await compareCommand(args('cmp-unregistered', '0'));
    const registered = await compareCommand(args('cmp-registered', '6'));
    const shifts = JSON.parse(readFileSync(join(tmp, 'cmp-registered', 'registration.json'), 'utf8'));
    expect(shifts.radius).toBe(6);
    expect(Object.values(shifts.shifts)).toEqual([[3, -2], [3, -2], [3, -2]]);
    const psnr = (r: typeof plain) => r!.summary.find((x) => x.bin === 'all')!.mean.psnr;
    expect(psnr(registered)).toBeGreaterThan(psnr(plain) + 10);
    expect(readFileSync(join(tmp, 'cmp-registered', 'compare.md'), 'utf8')).toMatch(/Registered \(--register 6\): .*3 of 3 shifted/);
    await expect(compareCommand(args('cmp-registered', '4'))).rejects.toThrow(/holds scores made with --register 6; give that, or another --out/);
    await expect(compareCommand(args('cmp-unregistered', '6'))).rejects.toThrow(/holds scores made with --register 0/);
  });

  it('--rl-input fit is fitted once: every run gets it, and the RL row, which would fit the same pairs, reuses it', async () => {
    const out = join(tmp, 'cmp-rl-input');
    await compareCommand(['--train', join(tmp, 'train'), '--test', join(tmp, 'test'), '--out', out, '--repeats', '1', '--methods', 'comi,rl',
      '--', ...TINY, '--rl-input', 'fit']);
    const stage = JSON.parse(readFileSync(join(out, 'rl-input-fit.json'), 'utf8'));
    expect(stage.register).toBe(0);
    expect(readRunConfig(join(out, 'runs', 'comi-0')).model.rlInput).toEqual({ sigma: stage.sigma, iterations: stage.iterations });
    const own = await fitRichardsonLucy(await fitPairs(join(tmp, 'train'), 'blurred', 'clear', { ...RL_FIT_PAIRS, register: 0 }));
    expect(JSON.parse(readFileSync(join(out, 'rl-fit.json'), 'utf8'))).toEqual(own);
  });

  it('refuses what it cannot do in one line', async () => {
    const base = ['--train', join(tmp, 'train'), '--test', join(tmp, 'test'), '--out', join(tmp, 'never')];
    await expect(compareCommand([...base, '--methods', 'comi,magic'])).rejects.toThrow(/^--methods: unknown method 'magic'; known: comi, cyclegan, pix2pix, deblurgan, rl, input$/);
    await expect(compareCommand([...base, '--', '--seed', '3'])).rejects.toThrow(/^train flag --seed is set by compare/);
    await expect(compareCommand(['--train', join(tmp, 'train'), '--test', join(tmp, 'nope'), '--out', join(tmp, 'never')])).rejects.toThrow(/does not exist/);
    await expect(compareCommand(['--train', tmp, '--test', tmp, '--out', join(tmp, 'never')])).rejects.toThrow(/does not exist \(expected blurred\/ and clear\//);
    expect(existsSync(join(tmp, 'never', 'scores.jsonl'))).toBe(false);
  });
});
