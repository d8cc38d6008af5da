// Finite-state guards (issue 18, finding 1): NaN / Inf in weights or Adam moments is caught within --nan-check-every
// iterations and rolled back (or stops the run), and no file written afterwards holds a non-finite value.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { readSafetensors } from '../../src/io/safetensors_file.js';
import { generateSynth, SYNTH_DEFAULTS } from '../../src/synth/generate.js';
import { train, type TrainSchedule } from '../../src/train/trainer.js';
import { loadGenerator, runPaths, saveGenerator, RUN_FORMAT, RUN_VERSION, type RunConfig } from '../../src/train/run_folder.js';
import { readLog } from '../../src/train/log.js';
import { nonFiniteState } from '../../src/train/guards.js';
import { countNonFiniteValues } from '../../src/data/finite.js';
import { CycleGan } from '../../src/model/cyclegan.js';
import { ResnetGenerator } from '../../src/model/generator.js';
import { correctImage, runSettings } from '../../src/correct/correct.js';

useGpu();

let tmp: string;
let synth: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'comi-guard-'));
  synth = join(tmp, 'synth');
  await generateSynth(synth, { ...SYNTH_DEFAULTS.fluorescence, count: 4, size: 40, seed: 3 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tinyConfig(iterations: number, optim: Partial<RunConfig['optim']> = {}, losses: Partial<RunConfig['losses']> = {}): RunConfig {
  return {
    format: RUN_FORMAT, version: RUN_VERSION, created: new Date(0).toISOString(), argv: [],
    model: { channels: 1, ngf: 4, ndf: 4, blocks: 1, upsampling: 'transpose', globalResidual: false },
    data: { root: synth, layout: 'paired', source: 'blurred', target: 'clear', inFocus: null, planes: null, size: 32, normalization: 'auto' },
    losses: { gan: 'lsgan', adversarialWeight: 1, contentWeight: 0, cycleWeight: 0.001, ...losses },
    vgg: null,
    optim: { lr: 1e-4, beta1: 0.5, beta2: 0.99, iterations, decayStart: iterations, batch: 1, poolSize: 2, ...optim },
    seed: 5,
  };
}

/** Every array in the run's checkpoint and generator is finite (or the file does not exist). */
function expectFiniteFiles(dir: string): void {
  for (const path of [runPaths(dir).checkpoint, runPaths(dir).generator]) {
    if (!existsSync(path)) continue;
    for (const [k, t] of Object.entries(readSafetensors(path).tensors)) expect(countNonFiniteValues(t.data), `${path}: ${k}`).toBe(0);
  }
}

/** Trains with a NaN written into a G_s weight once, right after iteration k. */
async function trainWithNanAt(dir: string, k: number, schedule: TrainSchedule) {
  let model: CycleGan | null = null;
  let poked = false;
  const notes: string[] = [];
  const run = train({
    runDir: dir, config: tinyConfig(12), schedule, onNote: (m) => notes.push(m),
    onStart: (info) => (model = info.model),
    onIteration: (e) => {
      if (e.iteration !== k || poked) return;
      poked = true;
      const w = model!.gS.parameters()[0];
      w.writeData(new Float32Array(w.size).fill(NaN, 0, 1));
    },
  });
  return { run, notes };
}

describe('non-finite training state', () => {
  it('a NaN forced into a weight after iteration 6 is caught within 2 iterations and rolled back to the checkpoint of 4', async () => {
    const dir = join(tmp, 'rollback');
    const { run, notes } = await trainWithNanAt(dir, 6, { checkpointEvery: 4, sampleEvery: 0, logEvery: 1, nanCheckEvery: 2, onNan: 'rollback' });
    expect(await run).toMatchObject({ iteration: 12, interrupted: false });
    expect(notes).toHaveLength(1);
    const [, at] = /^iteration (\d+): /.exec(notes[0])!;
    expect(Number(at)).toBeGreaterThan(6);
    expect(Number(at)).toBeLessThanOrEqual(8);
    expect(notes[0]).toMatch(/rolled back to iteration 4, learning rate ×0\.5 \(rollback 1 of at most 5\)/);
    expectFiniteFiles(dir);
    const ckpt = readSafetensors(runPaths(dir).checkpoint);
    expect(ckpt.metadata.lrScale).toBe('0.5');
    const log = readLog(runPaths(dir).log);
    expect(log.map((e) => e.iteration)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(log.every((e) => Object.values(e.losses).every(Number.isFinite))).toBe(true);
    expect(log[4].lr).toBeCloseTo(0.5e-4, 12); // iterations after the rollback point run at half the rate
    expect(log[3].lr).toBeCloseTo(1e-4, 12);
  });

  it('--on-nan stop: one line naming the iteration and what is kept; the checkpoint stays the last good one', async () => {
    const dir = join(tmp, 'stop');
    const { run } = await trainWithNanAt(dir, 6, { checkpointEvery: 4, sampleEvery: 0, logEvery: 1, nanCheckEvery: 2, onNan: 'stop' });
    await expect(run).rejects.toThrow(/^training stopped at iteration [78]: .*NaN.*; the checkpoint of iteration 4 is kept \(--on-nan rollback/);
    expect(readSafetensors(runPaths(dir).checkpoint).metadata.iteration).toBe('4');
    expectFiniteFiles(dir);
  });

  it('--lr 1 --cycle-weight 1e38 (losses finite, weights NaN): caught, and no non-finite generator is written', async () => {
    const dir = join(tmp, 'huge');
    const notes: string[] = [];
    const run = train({
      runDir: dir, config: tinyConfig(30, { lr: 1 }, { cycleWeight: 1e38 }), onNote: (m) => notes.push(m),
      schedule: { checkpointEvery: 2, sampleEvery: 0, logEvery: 1, nanCheckEvery: 1, onNan: 'rollback' },
    });
    const outcome = await run.then(() => 'finished', (err: Error) => err.message);
    console.log(`--lr 1 --cycle-weight 1e38: ${notes.length} rollback(s), first: ${notes[0]}; outcome: ${outcome}`);
    expect(notes.length).toBeGreaterThan(0);
    expect(notes[0]).toMatch(/^iteration \d+: (NaN\/Inf values|non-finite losses)/);
    if (outcome !== 'finished') expect(outcome).toMatch(/again after 5 rollbacks/);
    expectFiniteFiles(dir);
  });

  it('names Inf in an Adam second moment', async () => {
    const model = new CycleGan({ channels: 1, ngf: 2, ndf: 2, blocks: 0, seed: 1, contentWeight: 0 }, null, () => 0.5);
    try {
      expect(await nonFiniteState(model)).toBeNull();
      const v = model.optG.moments.v;
      v.writeData(new Float32Array(v.size).fill(Infinity, 10, 15));
      expect(await nonFiniteState(model)).toBe(`NaN/Inf values (5 in the generators' Adam second moment)`);
    } finally {
      model.dispose();
    }
  });

  it('correction refuses an input with NaN (a network may turn NaN into 0 or ±1 without a trace)', async () => {
    const g = new ResnetGenerator({ inChannels: 1, outChannels: 1, ngf: 2, blocks: 0, seed: 1 });
    const img = { width: 16, height: 16, channels: 1 as const, bitDepth: 32 as const, data: new Float32Array(256).fill(0.5).fill(NaN, 10, 12) };
    try {
      await expect(correctImage(g, img, runSettings(tinyConfig(1)))).rejects.toThrow(/^the image has 2 NaN\/Inf value\(s\) of 256: correction needs finite pixel values$/);
    } finally {
      g.dispose();
    }
  });

  it('loadGenerator (correct, evaluate) refuses a generator with non-finite weights', async () => {
    const dir = join(tmp, 'nan-gen');
    await train({ runDir: dir, config: tinyConfig(2), schedule: { checkpointEvery: 2, sampleEvery: 0, logEvery: 1 } });
    const { generator, config } = await loadGenerator(dir);
    const w = generator.parameters()[1];
    w.writeData(new Float32Array(w.size).fill(NaN));
    await saveGenerator(runPaths(dir).generator, generator as ResnetGenerator, config);
    generator.dispose();
    await expect(loadGenerator(dir)).rejects.toThrow(/generator\.safetensors holds \d+ NaN\/Inf value\(s\) in '.*': its training diverged/);
  });
});
