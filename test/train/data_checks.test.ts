// Data problems named before training (issue 18, findings 7 and 8): NaN in a float image, files without a partner,
// and a split with an empty side.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { writeImage, type Image } from '../../src/data/image.js';
import { hash32 } from '../../src/graph/random.js';
import { train } from '../../src/train/trainer.js';
import { RUN_FORMAT, RUN_VERSION, type RunConfig } from '../../src/train/run_folder.js';

useGpu();

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'comi-datacheck-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function image(seed: number, float = false): Image {
  const n = 40 * 36;
  const data = float ? new Float32Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = hash32(i, seed) & 0xff;
  return { width: 40, height: 36, channels: 1, bitDepth: float ? 32 : 8, data };
}

async function dataset(name: string, sources: string[], targets: string[], make = (s: number) => image(s)): Promise<string> {
  const root = join(tmp, name);
  for (const d of ['blurred', 'clear']) mkdirSync(join(root, d), { recursive: true });
  for (const [i, f] of sources.entries()) await writeImage(join(root, 'blurred', f), make(i));
  for (const [i, f] of targets.entries()) await writeImage(join(root, 'clear', f), make(100 + i));
  return root;
}

function config(root: string): RunConfig {
  return {
    format: RUN_FORMAT, version: RUN_VERSION, created: new Date(0).toISOString(), argv: [],
    model: { channels: 1, ngf: 4, ndf: 4, blocks: 1, upsampling: 'transpose', globalResidual: false },
    data: { root, layout: 'paired', source: 'blurred', target: 'clear', inFocus: null, planes: null, size: 32, normalization: 'auto', percentiles: { pLow: 0.1, pHigh: 99.9 } },
    losses: { gan: 'lsgan', adversarialWeight: 1, contentWeight: 0, cycleWeight: 0.001 },
    vgg: null,
    optim: { lr: 1e-4, beta1: 0.5, beta2: 0.99, iterations: 2, decayStart: 1, batch: 1, poolSize: 1 },
    seed: 5,
  };
}
const schedule = { checkpointEvery: 100, sampleEvery: 0, logEvery: 1 };

describe('training data checks', () => {
  it('paired folders with unmatched names: the files left out are listed', async () => {
    const root = await dataset('unmatched', ['a.png', 'b.png', 'c.png', 'x1.png'], ['a.png', 'b.png', 'c.png', 'y1.png', 'y2.png']);
    const notes: string[] = [];
    await train({ runDir: join(tmp, 'run-unmatched'), config: config(root), schedule, onNote: (m) => notes.push(m) });
    expect(notes).toEqual(['3 file(s) without a partner of the same name are not used: blurred/x1.png, clear/y1.png, clear/y2.png']);
  });

  it('a single pair is refused (its test split would be empty), with what to do; no run folder is left', async () => {
    const root = await dataset('single', ['a.png'], ['a.png']);
    const run = join(tmp, 'run-single');
    await expect(train({ runDir: run, config: config(root), schedule })).rejects.toThrow(
      /^the dataset has 1 pair\(s\): the 80\/20 split leaves the held-out \(test\) side empty; add data so that there are at least 2 pair\(s\)$/,
    );
    expect(existsSync(run)).toBe(false);
  });

  it('NaN in a float training image is named as such, before training (not "diverged at iteration 1")', async () => {
    const root = await dataset('nan', ['a.tif', 'b.tif'], ['a.tif', 'b.tif'], (s) => {
      const img = image(s, true);
      if (s === 101) img.data[7] = NaN;
      return img;
    });
    await expect(train({ runDir: join(tmp, 'run-nan'), config: config(root), schedule })).rejects.toThrow(
      /clear\/b\.tif has 1 NaN\/Inf value\(s\) of 1440: training needs finite pixel values$/,
    );
  });
});
