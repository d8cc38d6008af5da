// `comi evaluate` end to end against scikit-image 0.19.3 / numpy (scripts/fixtures/evaluate.py): image files as a
// user's folders hold them (8-bit RGB PNG and 16-bit TIFF at odd sizes, predictions in plane subfolders), every
// metric within 1e-6 of the oracle for both data-range choices, mean ± std per plane; pairing rules, bad input,
// and the held-out split of a run corrected and evaluated.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, mkdirSync, cpSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { useGpu } from '../helpers/gpu.js';
import { evaluate } from '../../src/eval/qc.js';
import { pairFiles, summarize, resolveScoring, METRICS, type ImageResult } from '../../src/eval/evaluate.js';
import { scoreNormalized } from '../../src/eval/convention.js';
import { parseEvaluateFlags } from '../../src/cli/evaluate.js';
import { readImage, writeImage, type Image } from '../../src/data/image.js';
import { saveSplit, splitDataset } from '../../src/data/dataset.js';
import { runPaths } from '../../src/train/run_folder.js';
import { hash32 } from '../../src/graph/random.js';
import { runConfig, writeTestRun } from '../correct/helpers.js';

useGpu();

/** Every metric, and mean / std, within this of scikit-image / numpy (absolute; PSNR in dB). */
const TOL = 1e-6;
const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'evaluate');
type Ref = Record<(typeof METRICS)[number], number>;
interface Expected {
  images: { image: string; group: string; dtype: { dataRange: number; corrected: Ref; input: Ref }; truth: { dataRange: number; corrected: Ref; input: Ref } }[];
  summary: { group: string; kind: 'corrected' | 'input'; n: number; mean: Ref; std: Ref }[];
}
const expected: Expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8'));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comi-eval-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let worst = 0;
function close(ours: number, ref: number, what: string): void {
  const d = Math.abs(ours - ref);
  worst = Math.max(worst, d);
  expect(d, `${what}: ours ${ours}, scikit-image ${ref}`).toBeLessThanOrEqual(TOL);
}
afterAll(() => console.log(`evaluate vs scikit-image 0.19.3: worst |ours − reference| ${worst.toExponential(2)} over ${expected.images.length} images × 2 × 4 metrics × 2 data ranges and the summaries`));

describe('metrics of files equal scikit-image', () => {
  for (const range of ['dtype', 'truth'] as const) {
    it(`data range ${range}: per image, prediction and baseline, and mean ± std per plane`, async () => {
      const out = join(dir, `fixture-${range}`);
      const res = await evaluate({ pred: join(FIX, 'pred'), truth: join(FIX, 'truth'), input: join(FIX, 'input'), out, dataRange: range, report: false });
      expect(res.failures).toEqual([]);
      expect(res.results.map((r) => r.image)).toEqual(expected.images.map((e) => e.image).sort());
      for (const e of expected.images) {
        const r = res.results.find((x) => x.image === e.image)!;
        expect(r.group).toBe(e.group);
        expect(r.dataRange).toBe(e[range].dataRange);
        for (const k of METRICS) {
          close(r.corrected[k], e[range].corrected[k], `${e.image} corrected ${k}`);
          close(r.input![k], e[range].input[k], `${e.image} input ${k}`);
        }
      }
      if (range === 'dtype') {
        expect(res.summary.map((s) => [s.group, s.kind, s.n])).toEqual(expected.summary.map((s) => [s.group, s.kind, s.n]));
        res.summary.forEach((s, i) => {
          for (const k of METRICS) {
            close(s.mean[k], expected.summary[i].mean[k], `${s.group} ${s.kind} mean ${k}`);
            close(s.std[k], expected.summary[i].std[k], `${s.group} ${s.kind} std ${k}`);
          }
        });
      }
      // the written tables carry the same numbers
      const json = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      expect(json.images).toEqual(JSON.parse(JSON.stringify(res.results)));
      expect(json.conventions).toMatch(/7×7 uniform window, sample covariance.*σ = 1\.5.*population covariance/);
      const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('image,group,kind,psnr,ssim_skimage,ssim_wang,pcc,convention,data_range,file,truth');
      expect(csv[1].split(',')[7]).toBe('raw');
      expect(csv).toHaveLength(1 + 2 * expected.images.length);
      for (const line of csv.slice(1)) {
        const [image, group, kind, ...vals] = line.split(',');
        const e = expected.images.find((x) => x.image === image)!;
        expect(group).toBe(e.group);
        METRICS.forEach((k, j) => close(Number(vals[j]), e[range][kind as 'corrected' | 'input'][k], `csv ${image} ${kind} ${k}`));
      }
      const md = readFileSync(join(out, 'metrics.md'), 'utf8');
      expect(md).toMatch(/\| Plane \| Images \| Compared \| PSNR \(dB\) \| SSIM \(skimage\) \| SSIM \(Wang\) \| PCC \|/);
      const z1 = res.summary.find((s) => s.group === 'Z1' && s.kind === 'corrected')!;
      expect(md).toContain(`| Z1 | 2 | corrected | ${z1.mean.psnr.toFixed(2)} ± ${z1.std.psnr.toFixed(2)} | ${z1.mean.ssimSkimage.toFixed(4)} ± ${z1.std.ssimSkimage.toFixed(4)} |`);
      expect(md).toContain('| all | 4 | input (baseline) |');
    });
  }
});

describe('the normalized convention (default)', () => {
  it('scores every file as scoreNormalized does (tested against CSBDeep + scikit-image) and says so in every table', async () => {
    const out = join(dir, 'fixture-normalized');
    const res = await evaluate({ pred: join(FIX, 'pred'), truth: join(FIX, 'truth'), input: join(FIX, 'input'), out });
    expect(res.failures).toEqual([]);
    expect(res.results).toHaveLength(expected.images.length);
    for (const r of res.results) {
      expect([r.convention, r.dataRange]).toEqual(['normalized', 1]);
      const truth = await readImage(r.files.truth);
      for (const [kind, file] of [['corrected', r.files.pred], ['input', r.files.input!]] as const) {
        const ref = scoreNormalized(await readImage(file), truth);
        expect(r[kind]).toEqual({ psnr: ref.psnr, ssimSkimage: ref.ssim, ssimWang: ref.ssimWang, pcc: ref.pcc });
      }
    }
    expect(res.summary.every((s) => s.convention === 'normalized')).toBe(true);
    const md = readFileSync(join(out, 'metrics.md'), 'utf8');
    expect(md).toContain('- scores: normalized: ground truth 0.1/99.9 percentiles → [0, 1], each image mapped onto it by the least-squares scale and offset (CSBDeep normalize_minmse), data range 1');
    expect(md).toContain('Scores in the normalized convention (see above):');
    expect(md).toMatch(/\| Z1\/field1\.png \| corrected \| normalized \| 1 \| \d+\.\d\d \|/);
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8').split('\n')[1].split(',')[7]).toBe('normalized');
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).convention).toBe('normalized');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<table id="summary"><caption>scores in the normalized convention</caption>');
    expect(html).toContain('<caption>scores in the normalized convention</caption><thead><tr><th>Compared</th>');
  });

  it('--data-range implies raw; with --convention normalized it is a usage error', () => {
    const base = ['--pred', 'a', '--truth', 'b', '--out', 'o'];
    expect(parseEvaluateFlags(base)).toMatchObject({ convention: undefined, dataRange: undefined });
    expect(resolveScoring(undefined, undefined)).toEqual({ convention: 'normalized' });
    expect(resolveScoring(undefined, 'truth')).toEqual({ convention: 'raw', dataRange: 'truth' });
    expect(resolveScoring('raw', undefined)).toEqual({ convention: 'raw', dataRange: 'dtype' });
    expect(parseEvaluateFlags([...base, '--convention', 'raw'])).toMatchObject({ convention: 'raw' });
    expect(() => parseEvaluateFlags([...base, '--convention', 'normalized', '--data-range', '1'])).toThrow('--data-range applies to --convention raw only (the normalized convention uses 1)');
    expect(() => parseEvaluateFlags([...base, '--convention', 'csbdeep'])).toThrow("--convention must be one of normalized, raw, got 'csbdeep'");
    expect(() => resolveScoring('normalized', 255)).toThrow(/a data range applies to the raw convention only/);
  });

  it('--precision f16 passes to the corrector with --model; elsewhere, with --stats tile or misspelt: a usage error', () => {
    const model = ['--model', 'run', '--out', 'o'];
    expect(parseEvaluateFlags(model)).toMatchObject({ precision: 'f32' });
    expect(parseEvaluateFlags([...model, '--precision', 'f16'])).toMatchObject({ precision: 'f16' });
    expect(() => parseEvaluateFlags(['--pred', 'a', '--truth', 'b', '--out', 'o', '--precision', 'f16'])).toThrow('--precision applies to --model only');
    expect(() => parseEvaluateFlags([...model, '--precision', 'f16', '--stats', 'tile'])).toThrow(/^--precision f16 is not supported with --stats tile/);
    expect(() => parseEvaluateFlags([...model, '--precision', 'half'])).toThrow("--precision must be one of f32, f16, got 'half'");
  });

  it('--map-memory passes to the corrector in bytes with --model; elsewhere, with --stats tile or not a whole MiB: a usage error', () => {
    const model = ['--model', 'run', '--out', 'o'];
    expect(parseEvaluateFlags(model)).toMatchObject({ mapMemory: undefined });
    expect(parseEvaluateFlags([...model, '--map-memory', '64'])).toMatchObject({ mapMemory: 64 * 2 ** 20 });
    expect(() => parseEvaluateFlags(['--pred', 'a', '--truth', 'b', '--out', 'o', '--map-memory', '64'])).toThrow('--map-memory applies to --model only');
    expect(() => parseEvaluateFlags([...model, '--map-memory', '64', '--stats', 'tile'])).toThrow('--map-memory applies to the maps kept between layers with --stats image');
    expect(() => parseEvaluateFlags([...model, '--map-memory', '0.5'])).toThrow("--map-memory must be an integer, got '0.5'");
  });
});

describe('summaries', () => {
  it('one image: std is NaN and shown without ±; no input: no baseline rows', () => {
    const m = { psnr: 30, ssimSkimage: 0.9, ssimWang: 0.8, pcc: 0.95 };
    const r: ImageResult = { image: 'a.png', group: '', convention: 'raw', dataRange: 255, corrected: m, input: null, files: { pred: 'a', truth: 'b', input: null } };
    const s = summarize([r]);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ group: 'all', kind: 'corrected', n: 1, mean: m });
    expect(Number.isNaN(s[0].std.psnr)).toBe(true);
  });
});

function pattern(width: number, height: number, channels: 1 | 3, seed: number): Image {
  const data = Uint8Array.from({ length: width * height * channels }, (_, i) => {
    const p = Math.floor(i / channels);
    return Math.round(127 + 90 * Math.sin((p % width) / 4 + seed) * Math.cos(Math.floor(p / width) / 6)) + (hash32(i, seed) % 20);
  });
  return { width, height, channels, bitDepth: 8, data };
}

describe('pairing and bad input', () => {
  it('pairs by relative path, by name, or by the last number (z-stack planes Z4_12 ↔ Z7_12)', async () => {
    const root = join(dir, 'pairing');
    for (const f of ['pred/a.png', 'pred/Z4/Z4_12.png', 'pred/Z4/other.png', 'truth/a.tif', 'truth/Z7_12.png', 'truth/Z7_13.png', 'input/Z4/Z4_12.jpg', 'input/a.png']) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), 'x');
    }
    const { pairs, failures } = pairFiles(join(root, 'pred'), join(root, 'truth'), join(root, 'input'));
    expect(pairs).toEqual([
      { image: 'a.png', group: '', pred: join(root, 'pred/a.png'), truth: join(root, 'truth/a.tif'), input: join(root, 'input/a.png') },
      { image: 'Z4/Z4_12.png', group: 'Z4', pred: join(root, 'pred/Z4/Z4_12.png'), truth: join(root, 'truth/Z7_12.png'), input: join(root, 'input/Z4/Z4_12.jpg') },
    ]);
    expect(failures).toEqual([{ file: join(root, 'pred/Z4/other.png'), message: `no ground truth in ${join(root, 'truth')} with the same name or number` }]);
    expect(() => pairFiles(join(root, 'nope'), join(root, 'truth'), null)).toThrow(/^--pred .*nope is not a folder$/);
  });

  // Dawn's own diagnostics go to stderr from C++ ("Warning: …" and an "at …cpp" line); everything else is ours.
  const dawnLog = (line: string) => line === '' || line.startsWith('Warning: ') || /^\s+at \S+ \(.*\.cpp:\d+\)$/.test(line);
  const comi = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href, join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, COMI_DEBUG: '' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !dawnLog(l)) };
  };

  it('a size mismatch fails that image in one line, the others are evaluated, exit 1; results are never overwritten', async () => {
    const root = join(dir, 'mismatch');
    cpSync(FIX, root, { recursive: true });
    await writeImage(join(root, 'pred', 'Z2', 'field1.png'), pattern(36, 29, 3, 1)); // truth is 37×29
    const out = join(root, 'out');
    const r = comi('evaluate', '--pred', join(root, 'pred'), '--truth', join(root, 'truth'), '--input', join(root, 'input'), '--out', out);
    expect(r.status).toBe(1);
    expect(r.stderr.filter((l) => !l.startsWith('evaluate ['))).toEqual([
      `failed: Z2/field1.png: size mismatch: prediction ${join(root, 'pred', 'Z2', 'field1.png')} is 36×29×3 (8-bit), ground truth ${join(root, 'truth', 'field1.png')} is 37×29×3 (8-bit)`,
      'comi evaluate: 1 image(s) could not be evaluated (listed above); 3 evaluated',
    ]);
    expect(r.stdout).toMatch(/^pred: .*, truth: .*, input: .*\nscores: normalized: ground truth 0.1\/99.9 percentiles → \[0, 1\], .*; output: .* \(metrics, montages, report\.html\)\n/);
    expect(r.stdout).toMatch(/\nZ1 +corrected +2 +\d+\.\d\d ± \d+\.\d\d/);
    const json = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(json.images).toHaveLength(3);
    expect(json.failures).toHaveLength(1);
    const before = readFileSync(join(out, 'metrics.csv'));
    const again = comi('evaluate', '--pred', join(root, 'pred'), '--truth', join(root, 'truth'), '--out', out);
    expect([again.status, again.stderr]).toEqual([1, [`comi evaluate: --out ${out} already has metrics.csv, metrics.json, metrics.md, report.html, montages; choose another folder or pass --overwrite`]]);
    expect(readFileSync(join(out, 'metrics.csv')).equals(before)).toBe(true);
    const flags = comi('evaluate', '--pred', 'a', '--out', out);
    expect([flags.status, flags.stderr]).toEqual([2, ['comi evaluate: give --pred DIR and --truth DIR, or --model RUN']]);
    const range = comi('evaluate', '--pred', 'a', '--truth', 'b', '--data-range', 'full', '--out', out);
    expect([range.status, range.stderr]).toEqual([2, ["comi evaluate: --data-range must be a number, got 'full'"]]);
  });

  it('unreadable files and a bit-depth mismatch are listed; float ground truth needs an explicit data range', async () => {
    const root = join(dir, 'unreadable');
    mkdirSync(join(root, 'pred'), { recursive: true });
    mkdirSync(join(root, 'truth'), { recursive: true });
    await writeImage(join(root, 'truth', 'a.png'), pattern(20, 20, 1, 2));
    writeFileSync(join(root, 'pred', 'a.png'), 'not a png');
    await writeImage(join(root, 'truth', 'b.tif'), { ...pattern(20, 20, 1, 3), bitDepth: 16, data: Uint16Array.from(pattern(20, 20, 1, 3).data) });
    await writeImage(join(root, 'pred', 'b.png'), pattern(20, 20, 1, 4));
    await writeImage(join(root, 'truth', 'c.tif'), { width: 20, height: 20, channels: 1, bitDepth: 32, data: Float32Array.from(pattern(20, 20, 1, 5).data) });
    await writeImage(join(root, 'pred', 'c.tif'), { width: 20, height: 20, channels: 1, bitDepth: 32, data: Float32Array.from(pattern(20, 20, 1, 6).data) });
    const res = await evaluate({ pred: join(root, 'pred'), truth: join(root, 'truth'), out: join(root, 'out'), convention: 'raw' });
    expect(res.results).toEqual([]);
    expect(res.failures.map((f) => `${f.file}: ${f.message}`)).toEqual([
      `a.png: not supported: file format of ${join(root, 'pred', 'a.png')} (not a PNG, JPEG or TIFF file)`,
      expect.stringMatching(/^b\.png: bit depth mismatch: prediction .*b\.png is 20×20×1 \(8-bit\), ground truth .*b\.tif is 20×20×1 \(16-bit\); compare images of one scale/),
      `c.tif: ground truth ${join(root, 'truth', 'c.tif')} is a float image: give --data-range truth or a number`,
    ]);
    const ok = await evaluate({ pred: join(root, 'pred'), truth: join(root, 'truth'), out: join(root, 'out2'), dataRange: 1, report: false });
    expect(ok.results.map((r) => r.image)).toEqual(['c.tif']);
  });
});

describe('--model RUN: the held-out split of a run', () => {
  it('corrects the test images of a z-stack run, groups them by plane, keeps the baseline, reads the loss log', async () => {
    const data = join(dir, 'stack');
    for (const plane of ['Z1', 'Z2', 'Z3']) {
      mkdirSync(join(data, plane), { recursive: true });
      for (let i = 0; i < 5; i++) await writeImage(join(data, plane, `${plane}_${i}.png`), pattern(40, 36, 3, 10 * i + Number(plane[1])));
    }
    const run = join(dir, 'run-stack');
    const config = runConfig({ channels: 3, ngf: 2, blocks: 1 }, { root: data, layout: 'zstack', source: null, target: null, inFocus: 'Z2', planes: ['Z1', 'Z3'] });
    (await writeTestRun(run, config)).dispose();
    const keys = Array.from({ length: 5 }, (_, i) => `Z2_${i}`);
    saveSplit(runPaths(run).split, splitDataset(keys, 3));
    const split = JSON.parse(readFileSync(runPaths(run).split, 'utf8'));
    writeFileSync(runPaths(run).log, [1, 2, 3].map((it) => JSON.stringify({ iteration: it, losses: { gTotal: 3 - it / 2, dT: 0.25 }, lr: 1e-4, seconds: it })).join('\n') + '\n');
    const out = join(dir, 'stack-eval');
    let tiles = 0;
    const res = await evaluate({ model: run, out, onTile: () => tiles++ });
    expect(res.failures).toEqual([]);
    expect(tiles).toBeGreaterThan(0);
    const tested = split.test.length;
    expect(res.results).toHaveLength(2 * tested); // each test field from both input planes
    expect(new Set(res.results.map((r) => r.group))).toEqual(new Set(['Z1', 'Z3']));
    expect(res.summary.map((s) => `${s.group} ${s.kind} ${s.n}`)).toEqual([`Z1 corrected ${tested}`, `Z1 input ${tested}`, `Z3 corrected ${tested}`, `Z3 input ${tested}`, `all corrected ${2 * tested}`, `all input ${2 * tested}`]);
    for (const r of res.results) {
      expect(r.files.truth).toMatch(/Z2\/Z2_\d\.png$/);
      expect(split.test).toContain(r.files.truth.match(/(Z2_\d)\.png$/)![1]);
      const written = await readImage(r.files.pred);
      expect([written.width, written.height, written.channels]).toEqual([40, 36, 3]);
    }
    expect(readdirSync(join(out, 'corrected')).sort()).toEqual(['Z1', 'Z3']);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('data-loss="gTotal"');
    await expect(evaluate({ model: run, out })).rejects.toThrow(/already has metrics\.csv/);
  });
});
