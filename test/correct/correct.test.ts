// `comi correct` and its library form on files: real microscopy images at full size (when ../shared/data is
// present), 16-bit and RGB in, the same size, channels and bit depth out, and every kind of bad input reported
// in one line while the rest of the batch goes on.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { useGpu } from '../helpers/gpu.js';
import { readImage, writeImage, type Image } from '../../src/data/image.js';
import { correctFiles, correctImage, runSettings } from '../../src/correct/correct.js';
import { writeSafetensors } from '../../src/io/safetensors_file.js';
import { loadGenerator, runPaths, writeRunConfig } from '../../src/train/run_folder.js';
import { hash32 } from '../../src/graph/random.js';
import { runConfig, writeTestRun } from './helpers.js';
import { skipWithoutF16 } from '../helpers/f16.js';

useGpu();

const ROOT = join(import.meta.dirname, '..', '..');
const DATA = join(ROOT, '..', 'shared', 'data');
const LEISHMANIA = join(DATA, 'leishmania-defocused', 'Out-of-focus_image.jpg');
const BBBC = join(DATA, 'bbbc006-sample', 'z00_defocused');

let dir: string;
let rgbRun: string;
let grayRun: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'comi-correct-'));
  rgbRun = join(dir, 'run-rgb');
  grayRun = join(dir, 'run-gray');
  (await writeTestRun(rgbRun, runConfig({ channels: 3, ngf: 2, blocks: 1 }))).dispose();
  (await writeTestRun(grayRun, runConfig({ channels: 1, ngf: 2, blocks: 1 }))).dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pattern(width: number, height: number, channels: 1 | 3, bitDepth: 8 | 16, seed: number): Image {
  const max = bitDepth === 8 ? 255 : 65535;
  const n = width * height * channels;
  const v = Array.from({ length: n }, (_, i) => {
    const p = Math.floor(i / channels);
    const s = 0.5 + 0.4 * Math.sin((p % width) / 5) * Math.cos(Math.floor(p / width) / 7);
    return Math.round(max * Math.min(1, Math.max(0, s + ((hash32(i, seed) % 1000) / 1000 - 0.5) * 0.1)));
  });
  return { width, height, channels, bitDepth, data: bitDepth === 8 ? Uint8Array.from(v) : Uint16Array.from(v) };
}

const isTiff = (path: string) => {
  const b = readFileSync(path);
  return (b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d);
};

describe('real images at full size', () => {
  it.skipIf(!existsSync(LEISHMANIA))('the 2304×1728 RGB Leishmania JPEG comes back at exactly its size', async () => {
    const out = join(dir, 'leishmania');
    const t0 = Date.now();
    const res = await correctFiles({ model: rgbRun, inputs: [LEISHMANIA], out });
    const seconds = (Date.now() - t0) / 1000;
    expect(res.failures).toEqual([]);
    const written = await readImage(join(out, 'Out-of-focus_image.jpg'));
    expect([written.width, written.height, written.channels, written.bitDepth]).toEqual([2304, 1728, 3, 8]);
    console.log(`Leishmania 2304×1728 RGB, model ngf 2 / 1 block, tiles chosen from the adapter: ${seconds.toFixed(1)} s`);
  });
  if (!existsSync(LEISHMANIA)) it.skip(`Leishmania JPEG not found at ${LEISHMANIA} (../shared/data is only present on the development machines)`, () => {});

  it.skipIf(!existsSync(BBBC))('a 16-bit BBBC006 TIFF comes back as a 16-bit TIFF of the same size; tiles agree with one pass', async () => {
    const file = join(BBBC, readdirSync(BBBC).filter((f) => f.endsWith('.tif')).sort()[0]);
    const input = await readImage(file);
    expect(input.bitDepth).toBe(16);
    const out = join(dir, 'bbbc');
    const res = await correctFiles({ model: grayRun, inputs: [file], out, tile: 256 });
    expect(res.failures).toEqual([]);
    const path = res.written[0].output;
    expect(isTiff(path)).toBe(true);
    const tiled = await readImage(path);
    expect([tiled.width, tiled.height, tiled.channels, tiled.bitDepth]).toEqual([input.width, input.height, 1, 16]);
    // The same image in one tile (no tiling): equal within the 1e-5 tiling tolerance on the [−1, 1] scale,
    // i.e. 1e-5/2 of the percentile span in counts, plus 1 for rounding.
    const { generator, config } = await loadGenerator(grayRun);
    const whole = await correctImage(generator, input, runSettings(config, { tile: 1024 }));
    generator.dispose();
    expect(whole.tiles).toBe(1);
    const n = whole.normalization;
    const span = n.kind === 'percentile' ? n.high - n.low : 65535;
    let worst = 0;
    const distinct = new Set<number>();
    for (let i = 0; i < tiled.data.length; i++) {
      worst = Math.max(worst, Math.abs(tiled.data[i] - whole.image.data[i]));
      distinct.add(tiled.data[i]);
    }
    expect(worst).toBeLessThanOrEqual((1e-5 / 2) * span + 1);
    expect(distinct.size).toBeGreaterThan(100); // a real image, not a constant
  });
  if (!existsSync(BBBC)) it.skip(`BBBC006 sample not found at ${BBBC}`, () => {});
});

describe('batches', () => {
  it('keeps size, channels and bit depth, corrects RGB with a 1-channel model per channel, writes float32 as TIFF', async () => {
    const inDir = join(dir, 'mixed');
    const out = join(dir, 'mixed-out');
    mkdirSync(inDir);
    await writeImage(join(inDir, 'rgb8.png'), pattern(45, 37, 3, 8, 1));
    await writeImage(join(inDir, 'gray16.tif'), pattern(33, 41, 1, 16, 2));
    const res = await correctFiles({ model: grayRun, inputs: [inDir], out });
    expect(res.failures).toEqual([]);
    const rgb = await readImage(join(out, 'rgb8.png'));
    const gray = await readImage(join(out, 'gray16.tif'));
    expect([rgb.width, rgb.height, rgb.channels, rgb.bitDepth]).toEqual([45, 37, 3, 8]);
    expect([gray.width, gray.height, gray.channels, gray.bitDepth]).toEqual([33, 41, 1, 16]);
    const f32 = await correctFiles({ model: grayRun, inputs: [join(inDir, 'rgb8.png')], out, dtype: 'float32' });
    expect(f32.written.map((j) => j.output)).toEqual([join(out, 'rgb8.tif')]);
    const f = await readImage(join(out, 'rgb8.tif'));
    expect([f.width, f.height, f.channels, f.bitDepth]).toEqual([45, 37, 3, 32]);
    for (let i = 0; i < f.data.length; i++) expect(Math.abs(Math.min(255, Math.max(0, Math.round(f.data[i]))) - rgb.data[i])).toBeLessThanOrEqual(0);
  });

  it('bad files fail one by one with a clear line while the others are written; nothing is overwritten', async () => {
    const inDir = join(dir, 'bad');
    const out = join(dir, 'bad-out');
    mkdirSync(inDir);
    mkdirSync(out);
    await writeImage(join(out, 'keep.png'), pattern(16, 16, 3, 8, 9));
    const before = readFileSync(join(out, 'keep.png'));
    await writeImage(join(inDir, 'good.png'), pattern(40, 36, 3, 8, 3));
    await writeImage(join(inDir, 'keep.png'), pattern(40, 36, 3, 8, 4));
    await writeImage(join(inDir, 'gray.png'), pattern(40, 36, 1, 8, 5));
    await writeImage(join(inDir, 'tiny.png'), pattern(6, 30, 3, 8, 6));
    const good = readFileSync(join(inDir, 'good.png'));
    writeFileSync(join(inDir, 'truncated.png'), good.subarray(0, good.length >> 1));
    writeFileSync(join(inDir, 'text.png'), 'not an image\n');
    writeFileSync(join(dir, 'scan.bmp'), Buffer.from('BM' + '\0'.repeat(60)));
    const res = await correctFiles({ model: rgbRun, inputs: [inDir, join(dir, 'scan.bmp'), join(dir, 'missing.tif')], out });
    expect(res.written.map((j) => j.input)).toEqual([join(inDir, 'good.png')]);
    const byFile = Object.fromEntries(res.failures.map((f) => [f.file.replace(`${dir}/`, ''), f.message]));
    expect(byFile).toEqual({
      'missing.tif': 'no such file or folder',
      'bad/keep.png': `${join(out, 'keep.png')} exists; pass --overwrite to replace it`,
      'bad/gray.png': 'the model corrects 3-channel (RGB) images; this image has 1 channel',
      'bad/text.png': `not supported: file format of ${join(inDir, 'text.png')} (not a PNG, JPEG or TIFF file)`,
      'bad/tiny.png': 'image is 6×30 pixels; the generator needs at least 8×8',
      'bad/truncated.png': expect.stringMatching(/^cannot read .*truncated\.png: truncated PNG \(file ends inside/),
      'scan.bmp': expect.stringMatching(/^not supported: file format of .*scan\.bmp/),
    });
    for (const m of Object.values(byFile)) expect(m).not.toMatch(/\n/);
    expect(readFileSync(join(out, 'keep.png')).equals(before)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['good.png', 'keep.png']); // no temporary files left behind
  });

  it('--dry-run lists the plan and writes nothing', async () => {
    const out = join(dir, 'dry-out');
    const res = await correctFiles({ model: rgbRun, inputs: [join(dir, 'bad', 'good.png')], out: join(out, 'sub'), dryRun: true });
    expect(res.jobs).toEqual([{ input: join(dir, 'bad', 'good.png'), output: join(out, 'sub', 'good.png') }]);
    expect(existsSync(out)).toBe(false);
  });

  it('a missing, foreign or newer model folder and an output folder that cannot be written stop the batch in one line', async () => {
    const img = join(dir, 'bad', 'good.png');
    const out = join(dir, 'never');
    await expect(correctFiles({ model: join(dir, 'no-run'), inputs: [img], out })).rejects.toThrow(/^run folder .*no-run does not exist$/);
    const newer = join(dir, 'run-newer');
    (await writeTestRun(newer, runConfig({}))).dispose();
    writeFileSync(runPaths(newer).config, JSON.stringify({ ...runConfig({}), version: 2 }));
    await expect(correctFiles({ model: newer, inputs: [img], out })).rejects.toThrow(/config\.json is run format version 2; this program reads version 1$/);
    writeRunConfig(newer, runConfig({}));
    writeSafetensors(runPaths(newer).generator, {}, { format: 'comi-generator', version: '2', config: JSON.stringify(runConfig({})) });
    await expect(correctFiles({ model: newer, inputs: [img], out })).rejects.toThrow(/generator\.safetensors is generator file version 2; this program reads version 1$/);
    writeSafetensors(runPaths(newer).generator, {}, { format: 'something-else' });
    await expect(correctFiles({ model: newer, inputs: [img], out })).rejects.toThrow(/is not a COMI generator file \(format 'something-else'\)$/);
    expect(existsSync(out)).toBe(false);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await expect(correctFiles({ model: rgbRun, inputs: [img], out: file })).rejects.toThrow(/^output folder .*a-file is a file$/);
    await expect(correctFiles({ model: rgbRun, inputs: [img], out: join(file, 'sub') })).rejects.toThrow(/^cannot create output folder .*a-file\/sub: /);
  });
});

describe('comi correct (command line)', () => {
  const cliIn = () => join(dir, 'cli-in');
  beforeAll(async () => {
    mkdirSync(cliIn());
    await writeImage(join(cliIn(), 'good.png'), pattern(40, 36, 3, 8, 3));
    writeFileSync(join(cliIn(), 'text.png'), 'not an image\n');
  });

  // Dawn's own diagnostics go to stderr from C++ ("Warning: …" and an "at …cpp" line); everything else is ours.
  const dawnLog = (line: string) => line === '' || line.startsWith('Warning: ') || /^\s+at \S+ \(.*\.cpp:\d+\)$/.test(line);
  const comiWith = (env: Record<string, string>, ...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href, join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, COMI_DEBUG: '', ...env },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !dawnLog(l)) };
  };
  const comi = (...args: string[]) => comiWith({}, ...args);

  it('prints the settings first, a line per file and progress; exits 0', async () => {
    const out = join(dir, 'cli-out');
    const input = join(dir, 'cli.png');
    await writeImage(input, pattern(100, 90, 3, 8, 8));
    const r = comi('correct', '--model', rgbRun, '--out', out, '--tile', '68', input);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^model: +.*run-rgb \(3 channel\(s\), ngf 2, 1 blocks, transpose upsampling\)$/);
    expect(lines[3]).toMatch(/^normalisation: auto .*as the run was trained; inverted on output$/);
    expect(lines[4]).toMatch(/^tiles: +68 px; statistics of the whole image \(layer by layer, 8 layers\)$/);
    expect(lines[5]).toBe(`[1/1] ${input} → ${join(out, 'cli.png')}`);
    const tiles = Math.ceil(100 / 68) * Math.ceil(92 / 68); // layer-major: tiles of 68 px on the padded 100×92
    expect(lines[6]).toBe(`  wrote 100×90, 3 channel(s), 8-bit (${tiles} tiles of 68 px × 8 layers)`);
    expect(lines[7]).toBe(`corrected 1 image(s) into ${out}`);
    expect(r.stderr.some((l) => l.startsWith(`  cli.png: tile [####################] ${8 * tiles}/${8 * tiles} 100%`))).toBe(true);
    expect(existsSync(join(out, 'cli.png'))).toBe(true);
  });

  it('bad input: failures listed, one summary line, exit 1; bad flags and bad models: one line', () => {
    const out = join(dir, 'cli-bad');
    const r = comi('correct', '--model', rgbRun, '--out', out, join(cliIn(), 'good.png'), join(cliIn(), 'text.png'));
    expect(r.status).toBe(1);
    expect(r.stderr.filter((l) => l.startsWith('failed: '))).toEqual([`failed: ${join(cliIn(), 'text.png')}: not supported: file format of ${join(cliIn(), 'text.png')} (not a PNG, JPEG or TIFF file)`]);
    expect(r.stderr.at(-1)).toBe('comi correct: 1 input(s) failed (listed above); 1 written');
    expect(existsSync(join(out, 'good.png'))).toBe(true);

    const noModel = comi('correct', '--model', join(dir, 'nope'), '--out', out, join(cliIn(), 'good.png'));
    expect([noModel.status, noModel.stderr]).toEqual([1, [`comi correct: run folder ${join(dir, 'nope')} does not exist`]]);
    const badTile = comi('correct', '--model', rgbRun, '--out', out, '--tile', '70', 'x.png');
    expect([badTile.status, badTile.stderr]).toEqual([2, ["comi correct: --tile must be a multiple of 4, got '70'"]]);
    const dry = comi('correct', '--model', rgbRun, '--out', out, '--dry-run', join(cliIn(), 'good.png'));
    expect(dry.status).toBe(1); // good.png exists in out now
    expect(dry.stderr).toEqual([`failed: ${join(cliIn(), 'good.png')}: ${join(out, 'good.png')} exists; pass --overwrite to replace it`, 'comi correct: 1 input(s) failed (listed above); 0 would be written']);
  });

  it('--map-memory: the maps beyond it wait in host memory, said so, the same output; bad values: one line', async () => {
    const input = join(dir, 'cli-wide.png');
    await writeImage(input, pattern(600, 500, 3, 8, 9)); // 2-channel stem maps of 600×500: 2.3 MiB in f32
    const plain = comi('correct', '--model', rgbRun, '--out', join(dir, 'cli-maps-free'), '--tile', '100', input);
    const tight = comi('correct', '--model', rgbRun, '--out', join(dir, 'cli-maps-1'), '--tile', '100', '--map-memory', '1', input);
    expect([plain.status, tight.status]).toEqual([0, 0]);
    expect(tight.stdout).toContain('\nmap memory:    at most 1 MiB of feature maps on the GPU, the rest in host memory\n');
    expect(tight.stdout).toMatch(/\n {2}wrote 600×500, 3 channel\(s\), 8-bit \(30 tiles of 100 px × 8 layers, map bands moved to host memory \d+×\)\n/);
    expect(plain.stdout).not.toContain('host memory');
    expect(readFileSync(join(dir, 'cli-maps-1', 'cli-wide.png')).equals(readFileSync(join(dir, 'cli-maps-free', 'cli-wide.png')))).toBe(true);
    const zero = comi('correct', '--model', rgbRun, '--out', join(dir, 'cli-maps-0'), '--map-memory', '0', input);
    expect([zero.status, zero.stderr]).toEqual([2, ["comi correct: --map-memory must be ≥ 1, got '0'"]]);
    const perTile = comi('correct', '--model', rgbRun, '--out', join(dir, 'cli-maps-0'), '--map-memory', '64', '--stats', 'tile', input);
    expect([perTile.status, perTile.stderr]).toEqual([2, ['comi correct: --map-memory applies to the maps kept between layers with --stats image']]);
  });

  it('--precision f16: maps stored as f16 and said so; a bad value, --stats tile or an adapter without shader-f16: one line', async (ctx) => {
    skipWithoutF16(ctx);
    const out = join(dir, 'cli-f16');
    const input = join(cliIn(), 'good.png');
    const r = comi('correct', '--model', rgbRun, '--out', out, '--tile', '20', '--precision', 'f16', input);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\nprecision:     feature maps between layers stored as f16 (half the memory), arithmetic in f32\n');
    expect(r.stdout).toMatch(/\n {2}wrote 40×36, 3 channel\(s\), 8-bit \(\d+ tiles of 20 px × 8 layers, f16 maps\)\n/);
    expect(existsSync(join(out, 'good.png'))).toBe(true);
    const bad = comi('correct', '--model', rgbRun, '--out', out, '--precision', 'f64', input);
    expect([bad.status, bad.stderr]).toEqual([2, ["comi correct: --precision must be one of f32, f16, got 'f64'"]]);
    const tile = comi('correct', '--model', rgbRun, '--out', out, '--precision', 'f16', '--stats', 'tile', input);
    expect([tile.status, tile.stderr]).toEqual([2, ['comi correct: --precision f16 is not supported with --stats tile (only the layer-by-layer --stats image keeps maps)']]);
    const none = comiWith({ COMI_DISABLE_FEATURES: 'shader-f16' }, 'correct', '--model', rgbRun, '--out', join(dir, 'cli-no-f16'), '--precision', 'f16', input);
    expect(none.status).toBe(1);
    expect(none.stderr).toHaveLength(1);
    expect(none.stderr[0]).toMatch(/^comi correct: --precision f16 is not supported on this adapter: .+ has no shader-f16$/);
    expect(existsSync(join(dir, 'cli-no-f16', 'good.png'))).toBe(false);
  });
});
