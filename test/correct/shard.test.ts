// Sharded batches end to end: 4 concurrent `comi correct --shard k/4` processes over 200 images into one folder,
// a shard killed with SIGKILL halfway and rerun, and `comi manifest check` on complete and broken manifests.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, readdirSync, existsSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { useGpu } from '../helpers/gpu.js';
import { readImage, writeImage } from '../../src/data/image.js';
import { correctFiles } from '../../src/correct/correct.js';
import { expandInputs } from '../../src/correct/files.js';
import { shardOf, type ManifestEntry } from '../../src/correct/batch.js';
import { hash32 } from '../../src/graph/random.js';
import { DEFAULT_FOCUS_MEASURE, FOCUS_THRESHOLDS } from '../../src/focus/focus.js';
import { runConfig, writeTestRun } from './helpers.js';

useGpu();

const ROOT = join(import.meta.dirname, '..', '..');
const N_IMAGES = 200;
let dir: string;
let run: string;
let images: string;
let reference: string;

interface Child { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `comi ARGS` in a child process (TypeScript sources, no build); onSpawn may kill it. */
function comi(args: string[], onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<Child> {
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href, join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    env: { ...process.env, COMI_DEBUG: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  onSpawn?.(child);
  const ours = (l: string) => l !== '' && !l.startsWith('Warning: ') && !/^\s+at \S+ \(.*\.cpp:\d+\)$/.test(l); // not Dawn's
  return new Promise((resolve) => child.on('exit', (status, signal) => resolve({ status, signal, stdout, stderr: stderr.split('\n').filter(ours).join('\n') })));
}

const manifestLines = (folder: string): ManifestEntry[] =>
  readdirSync(folder).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(join(folder, f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)));

/** Every output decodes and has exactly the single-process output's pixels. */
async function expectSameAsReference(out: string, names: string[]): Promise<void> {
  for (const name of names) {
    const [ours, ref] = [await readImage(join(out, name)), await readImage(join(reference, name))];
    expect(Buffer.from(ours.data.buffer).equals(Buffer.from(ref.data.buffer)), name).toBe(true);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'comi-shard-'));
  run = join(dir, 'run');
  (await writeTestRun(run, runConfig({ channels: 1, ngf: 2, blocks: 1 }))).dispose();
  images = join(dir, 'plate');
  mkdirSync(images);
  for (let i = 0; i < N_IMAGES; i++) {
    const data = Uint8Array.from({ length: 32 * 32 }, (_, k) => hash32(k, i) % 256);
    await writeImage(join(images, `img_${String(i).padStart(3, '0')}.png`), { width: 32, height: 32, channels: 1, bitDepth: 8, data });
  }
  reference = join(dir, 'reference');
  const res = await correctFiles({ model: run, inputs: [images], out: reference });
  expect(res.written).toHaveLength(N_IMAGES);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--only-blurred', () => {
  it('corrects images below the focus threshold and records the others as sharp, without an output', async () => {
    const folder = join(dir, 'triage');
    mkdirSync(folder);
    const px = (f: (x: number, y: number) => number) => Uint8Array.from({ length: 64 * 64 }, (_, k) => f(k % 64, Math.floor(k / 64)));
    await writeImage(join(folder, 'ramp.png'), { width: 64, height: 64, channels: 1, bitDepth: 8, data: px((x, y) => 60 + x + y) });
    await writeImage(join(folder, 'checker.png'), { width: 64, height: 64, channels: 1, bitDepth: 8, data: px((x, y) => ((x >> 3) + (y >> 3)) % 2 ? 220 : 30) });
    const out = join(dir, 'triage-out');
    const res = await correctFiles({ model: run, inputs: [folder], out, onlyBlurred: FOCUS_THRESHOLDS[DEFAULT_FOCUS_MEASURE], manifest: join(out, 'manifests') });
    expect(res.failures).toEqual([]);
    expect(res.written.map((j) => j.output)).toEqual([join(out, 'ramp.png')]);
    expect(res.sharp.map((j) => j.input)).toEqual([join(folder, 'checker.png')]);
    const lines = manifestLines(join(out, 'manifests'));
    expect(lines.map((l) => [l.input, l.action, l.output])).toEqual([['checker.png', 'sharp', null], ['ramp.png', 'corrected', 'ramp.png']]);
    expect(lines[0].focus).toBeGreaterThan(FOCUS_THRESHOLDS.tenengrad);
    expect(lines[1].focus).toBeLessThan(FOCUS_THRESHOLDS.tenengrad);
    // a rerun finds both recorded and does nothing
    const again = await correctFiles({ model: run, inputs: [folder], out, onlyBlurred: 1.14, manifest: join(out, 'manifests') });
    expect([again.done, again.jobs.length, again.written.length]).toEqual([2, 0, 0]);
  });
});

describe('--skip-existing', () => {
  it('records an output written before a crash cut its manifest line, instead of redoing it or failing', async () => {
    const out = join(dir, 'existing');
    const input = join(images, 'img_000.png');
    await correctFiles({ model: run, inputs: [input], out }); // the output, but no manifest line
    const manifest = join(out, 'manifests');
    const refused = await correctFiles({ model: run, inputs: [input], out, manifest });
    expect(refused.failures.map((f) => f.message)).toEqual([`${join(out, 'img_000.png')} exists; pass --overwrite to replace it`]);
    const res = await correctFiles({ model: run, inputs: [input], out, manifest, skipExisting: true });
    expect([res.existing.length, res.written.length, res.failures.length]).toEqual([1, 0, 0]);
    expect(manifestLines(manifest).map((l) => [l.input, l.action, l.output])).toEqual([[input, 'existing', 'img_000.png']]); // a file argument's key is its path as given
  });
});

describe('sharded correction', () => {
  it('4 concurrent shards into one folder: every input once, outputs equal to one process, manifest check passes', async () => {
    const out = join(dir, 'out4');
    const t0 = Date.now();
    const shards = await Promise.all([0, 1, 2, 3].map((k) => comi(['correct', '--model', run, '--out', out, '--shard', `${k}/4`, images])));
    for (const r of shards) expect(r.status, r.stderr).toBe(0);
    const names = readdirSync(out).filter((f) => f.endsWith('.png')).sort();
    expect(names).toEqual(readdirSync(reference).sort());
    const lines = manifestLines(join(out, 'manifests'));
    expect(lines).toHaveLength(N_IMAGES);
    expect(new Set(lines.map((l) => l.input)).size).toBe(N_IMAGES);
    // each shard wrote only its own inputs, to its own manifest
    const { keys } = expandInputs([images]);
    for (const k of [0, 1, 2, 3]) {
      const mine = readFileSync(join(out, 'manifests', `shard-000${k}-of-0004.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l).input);
      expect(mine.sort()).toEqual(keys.filter((key) => shardOf(key, 4) === k).sort());
    }
    await expectSameAsReference(out, names);
    expect(lines.every((l) => l.action === 'corrected' && l.model === 'run' && /^[0-9a-f]{64}$/.test(l.sha256) && typeof l.focus === 'number')).toBe(true);
    const check = await comi(['manifest', 'check', '--out', out, images]);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^manifest check: 200 input\(s\), each recorded exactly once; all outputs present and intact$/m);
    process.stdout.write(`4 shards × 50 images, concurrent: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${names.length} outputs, ${lines.length} manifest lines\n`);

    // The merge check fails loudly on a missing and a duplicated input.
    const broken = join(dir, 'broken');
    cpSync(join(out, 'manifests'), broken, { recursive: true });
    const f0 = join(broken, 'shard-0000-of-0004.jsonl');
    const f1 = join(broken, 'shard-0001-of-0004.jsonl');
    const [dropped, ...rest0] = readFileSync(f0, 'utf8').trim().split('\n');
    writeFileSync(f0, `${rest0.join('\n')}\n`);
    const dup = readFileSync(f1, 'utf8').split('\n')[0];
    writeFileSync(join(broken, 'rerun.jsonl'), `${dup}\n`);
    const bad = await comi(['manifest', 'check', '--out', out, '--manifest', broken, images]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.split('\n')).toEqual([
      `missing (no manifest line): ${JSON.parse(dropped).input}`,
      `duplicated (more than one line): ${JSON.parse(dup).input}`,
      'comi manifest: 200 input(s), 200 manifest line(s): 1 missing (no manifest line), 1 duplicated (more than one line)',
    ]);
  }, 300_000);

  it('a shard killed with SIGKILL halfway, rerun, finishes only the remainder; no output is corrupt', async () => {
    const out = join(dir, 'killed');
    const manifest = join(out, 'manifests', 'shard-0000-of-0002.jsonl');
    const args = ['correct', '--model', run, '--out', out, '--shard', '0/2', '--skip-existing', images];
    const size = expandInputs([images]).keys.filter((k) => shardOf(k, 2) === 0).length;
    let linesAtKill = 0;
    const killed = await comi(args, (child) => {
      const poll = setInterval(() => {
        const n = existsSync(manifest) ? readFileSync(manifest, 'utf8').split('\n').length - 1 : 0;
        if (n >= 10) {
          child.kill('SIGKILL');
          linesAtKill = n;
          clearInterval(poll);
        }
      }, 10);
      child.on('exit', () => clearInterval(poll));
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(linesAtKill).toBeLessThan(size);
    const before = manifestLines(join(out, 'manifests')).length;
    const rerun = await comi(args);
    expect(rerun.status, rerun.stderr).toBe(0);
    const m = /batch: +shard 0\/2; (\d+) already in the manifest, (\d+) output\(s\) existing/.exec(rerun.stdout);
    expect(m, rerun.stdout).not.toBeNull();
    const [done, existing] = [Number(m![1]), Number(m![2])];
    const corrected = Number(/corrected (\d+) image\(s\)/.exec(rerun.stdout)![1]);
    expect(done).toBe(before);
    expect(existing).toBeLessThanOrEqual(1); // written, then killed before its manifest line
    expect(done + existing + corrected).toBe(size);
    const lines = manifestLines(join(out, 'manifests'));
    expect(lines).toHaveLength(size);
    expect(new Set(lines.map((l) => l.input)).size).toBe(size);
    const names = readdirSync(out).filter((f) => f.endsWith('.png')).sort();
    expect(names).toHaveLength(size);
    await expectSameAsReference(out, names); // every file, decoded
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp')).length).toBeLessThanOrEqual(1); // the killed write's
    process.stdout.write(`kill -9 after ${linesAtKill} of ${size} manifest lines; rerun: ${done} already done, ${existing} existing, ${corrected} corrected\n`);
  }, 300_000);

  it('bad --shard and --only-blurred values, and a manifest check without manifests, are one line each', async () => {
    const shard = await comi(['correct', '--model', run, '--out', join(dir, 'x'), '--shard', '4/4', images]);
    expect([shard.status, shard.stderr]).toEqual([2, "comi correct: --shard must be K/N with 0 ≤ K < N (0-based), got '4/4'"]);
    const blurred = await comi(['correct', '--model', run, '--out', join(dir, 'x'), '--only-blurred', '-1', images]);
    expect([blurred.status, blurred.stderr]).toEqual([2, "comi correct: --only-blurred must be > 0, got '-1'"]);
    const none = await comi(['manifest', 'check', '--out', join(dir, 'x'), images]);
    expect([none.status, none.stderr]).toEqual([1, `comi manifest: manifest folder ${join(dir, 'x', 'manifests')} does not exist`]);
  }, 120_000);
});
