// The training program as a library: bit-exact resume (issue item 3), the run folder it writes, the learning-rate
// schedule, and the cleanup of a new run that fails before its first checkpoint.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { Tensor } from '../../src/graph/tensor.js';
import { rt } from '../../src/graph/runtime.js';
import { trialsRecorded } from '../../src/kernels/autotune.js';
import { noGrad } from '../../src/autograd/tape.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors_file.js';
import { readImage } from '../../src/data/image.js';
import { generateSynth, SYNTH_DEFAULTS } from '../../src/synth/generate.js';
import { ResnetGenerator } from '../../src/model/generator.js';
import { train, learningRate, heldOutWarning, iterationsWithin, checksLeft, PROBE_ITERATIONS, type TrainSchedule } from '../../src/train/trainer.js';
import { loadGenerator, modelFolder, readRunConfig, runPaths, saveGenerator, RUN_FORMAT, RUN_VERSION, type RunConfig } from '../../src/train/run_folder.js';
import { readLog } from '../../src/train/log.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { loadSplit } from '../../src/data/dataset.js';

useGpu();

let tmp: string;
let synth: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'comi-train-'));
  synth = join(tmp, 'synth');
  await generateSynth(synth, { ...SYNTH_DEFAULTS.fluorescence, count: 6, size: 48, seed: 3 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tiny configuration (32² crops, ngf 4, 2 blocks, ndf 4) without content loss (VGG19 is tested elsewhere). */
function tinyConfig(over: { iterations?: number; poolSize?: number; layout?: 'paired' | 'unpaired'; batch?: number } = {}): RunConfig {
  const iterations = over.iterations ?? 20;
  return {
    format: RUN_FORMAT, version: RUN_VERSION, created: new Date(0).toISOString(), argv: [],
    model: { channels: 1, ngf: 4, ndf: 4, blocks: 2, upsampling: 'transpose', globalResidual: false },
    data: { root: synth, layout: over.layout ?? 'paired', source: 'blurred', target: 'clear', inFocus: null, planes: null, size: 32, normalization: 'auto' },
    losses: { gan: 'lsgan', adversarialWeight: 1, contentWeight: 0, cycleWeight: 0.001 },
    vgg: null,
    optim: { lr: 1e-4, beta1: 0.5, beta2: 0.99, iterations, decayStart: iterations / 2, batch: over.batch ?? 1, poolSize: over.poolSize ?? 4 },
    seed: 5,
  };
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const schedule: TrainSchedule = { checkpointEvery: 7, sampleEvery: 5, logEvery: 1 };

describe('resume', () => {
  it('20 iterations straight equal 10, Ctrl-C, resume, 10 more: losses, weights, Adam state and pools bit for bit', async () => {
    // A pool of 4 fills at iteration 4, so its random swaps and stored fakes cross the resume boundary.
    const straight = join(tmp, 'straight');
    const split = join(tmp, 'split');
    const r1 = await train({ runDir: straight, config: tinyConfig(), schedule });
    expect(r1).toMatchObject({ iteration: 20, interrupted: false });

    const stop = new AbortController();
    const r2 = await train({ runDir: split, config: tinyConfig(), schedule, signal: stop.signal, onIteration: (e) => e.iteration === 10 && stop.abort() });
    expect(r2).toMatchObject({ iteration: 10, interrupted: true });
    expect(readSafetensors(runPaths(split).checkpoint).metadata.iteration).toBe('10');
    const r3 = await train({ runDir: split, schedule });
    expect(r3).toMatchObject({ iteration: 20, interrupted: false });

    const logA = readLog(runPaths(straight).log);
    const logB = readLog(runPaths(split).log);
    expect(logA.map((e) => e.iteration)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(logB.map((e) => [e.iteration, e.losses, e.lr])).toEqual(logA.map((e) => [e.iteration, e.losses, e.lr]));
    expect(logA[19].losses.dT).toBeGreaterThan(0);

    const a = readSafetensors(runPaths(straight).checkpoint);
    const b = readSafetensors(runPaths(split).checkpoint);
    expect(Object.keys(b.tensors).sort()).toEqual(Object.keys(a.tensors).sort());
    expect(Object.keys(a.tensors).filter((k) => k.startsWith('poolT.'))).toHaveLength(4);
    for (const [k, t] of Object.entries(a.tensors)) {
      expect(b.tensors[k].shape, k).toEqual(t.shape);
      expect(bytes(b.tensors[k].data).equals(bytes(t.data)), `${k} differs`).toBe(true);
    }
    for (const k of ['iteration', 'stepG', 'stepD', 'rng']) expect(b.metadata[k], k).toBe(a.metadata[k]);
    // The pool's random stream was used (swaps after it filled), and restored.
    expect(JSON.parse(a.metadata.rng).pool.counter).toBeGreaterThan(0);
    const ga = readSafetensors(runPaths(straight).generator);
    const gb = readSafetensors(runPaths(split).generator);
    for (const [k, t] of Object.entries(ga.tensors)) expect(bytes(gb.tensors[k].data).equals(bytes(t.data)), k).toBe(true);
  });

  it('with content loss (random-weight VGG19, reloaded on resume): 4 straight equal 2 + resume + 2', async () => {
    const config = tinyConfig({ iterations: 4, poolSize: 1 });
    config.losses.contentWeight = 1;
    const quick: TrainSchedule = { checkpointEvery: 100, sampleEvery: 0, logEvery: 1 };
    const straight = join(tmp, 'vgg-straight');
    const split = join(tmp, 'vgg-split');
    await train({ runDir: straight, config, vggSource: 'random', schedule: quick });
    const stop = new AbortController();
    await train({ runDir: split, config, vggSource: 'random', schedule: quick, signal: stop.signal, onIteration: (e) => e.iteration === 2 && stop.abort() });
    await train({ runDir: split, schedule: quick });
    expect(readRunConfig(split).vgg).toEqual({ source: 'random', layers: ['relu3_3'], preprocessing: expect.any(String) });
    const logA = readLog(runPaths(straight).log);
    expect(logA.every((e) => e.losses.gContent > 0)).toBe(true);
    expect(readLog(runPaths(split).log).map((e) => e.losses)).toEqual(logA.map((e) => e.losses));
    const a = readSafetensors(runPaths(straight).generator).tensors;
    const b = readSafetensors(runPaths(split).generator).tensors;
    for (const [k, t] of Object.entries(a)) expect(bytes(b[k].data).equals(bytes(t.data)), k).toBe(true);
  });

  it('pix2pix (dropout masks from its step count) and deblurgan (VGG19 conv3_3): 4 straight equal 2 + resume + 2', async () => {
    const quick: TrainSchedule = { checkpointEvery: 100, sampleEvery: 0, logEvery: 1 };
    for (const method of ['pix2pix', 'deblurgan'] as const) {
      const config = tinyConfig({ iterations: 4, poolSize: 0 });
      config.model = { ...config.model, method, ...(method === 'pix2pix' ? { downs: 5, blocks: 0 } : { globalResidual: true }) };
      config.losses = { gan: method === 'pix2pix' ? 'log' : 'lsgan', adversarialWeight: 1, contentWeight: 100, cycleWeight: 0, content: [method === 'pix2pix' ? 'l1' : 'vgg'] };
      const run = (dir: string, signal?: AbortSignal, onIteration?: (e: { iteration: number }) => void) =>
        train({ runDir: join(tmp, dir), config, vggSource: 'random', vggLayers: ['conv3_3'], schedule: quick, signal, onIteration });
      await run(`${method}-straight`);
      const stop = new AbortController();
      await run(`${method}-split`, stop.signal, (e) => e.iteration === 2 && stop.abort());
      await train({ runDir: join(tmp, `${method}-split`), schedule: quick });
      const logA = readLog(runPaths(join(tmp, `${method}-straight`)).log);
      expect(logA.every((e) => e.losses.gContent > 0 && e.losses.dT > 0 && e.losses.dS === 0)).toBe(true);
      expect(readLog(runPaths(join(tmp, `${method}-split`)).log).map((e) => e.losses)).toEqual(logA.map((e) => e.losses));
      const a = readSafetensors(runPaths(join(tmp, `${method}-straight`)).checkpoint).tensors;
      const b = readSafetensors(runPaths(join(tmp, `${method}-split`)).checkpoint).tensors;
      expect(Object.keys(a).some((k) => k.startsWith('gT.') || k.startsWith('pool'))).toBe(false);
      for (const [k, t] of Object.entries(a)) expect(bytes(b[k].data).equals(bytes(t.data)), `${method} ${k}`).toBe(true);
    }
    expect(readRunConfig(join(tmp, 'deblurgan-split')).vgg).toMatchObject({ source: 'random', layers: ['conv3_3'] });
  });

  it('refuses to resume a finished run unless --iters extends it, and drops log lines after the checkpoint', async () => {
    const dir = join(tmp, 'finished');
    await train({ runDir: dir, config: tinyConfig({ iterations: 3 }), schedule: { checkpointEvery: 100, sampleEvery: 0, logEvery: 1 } });
    await expect(train({ runDir: dir, schedule })).rejects.toThrow(/has finished \(3 of 3 iterations\); pass --iters N to train longer/);
    // A crash after logging iteration 4 but before its checkpoint: the resumed run logs iteration 4 again, once.
    writeFileSync(runPaths(dir).log, `${readFileSync(runPaths(dir).log, 'utf8')}{"iteration":4,"losses":{},"lr":0,"seconds":0}\n{"iteration":5,"los`);
    const r = await train({ runDir: dir, schedule, iterations: 5 });
    expect(r.iteration).toBe(5);
    expect(readRunConfig(dir).optim.iterations).toBe(5);
    const log = readLog(runPaths(dir).log);
    expect(log.map((e) => e.iteration)).toEqual([1, 2, 3, 4, 5]);
    expect(log[3].losses.gTotal).toBeGreaterThan(0);
  });
});

describe('run folder', () => {
  it('holds config, split, log, samples, checkpoint and a generator that correction loads', async () => {
    const dir = join(tmp, 'folder');
    const config = tinyConfig({ iterations: 4, layout: 'unpaired', batch: 2 });
    config.losses.contentWeight = 1; // unpaired: forced to 0 with a note, so no VGG is needed
    const notes: string[] = [];
    const r = await train({ runDir: dir, config, schedule: { checkpointEvery: 2, sampleEvery: 3, logEvery: 2 }, onNote: (m) => notes.push(m) });
    expect(r.iteration).toBe(4);
    expect(notes).toEqual([expect.stringMatching(/^content loss off: .*unpaired/)]);
    const p = runPaths(dir);
    const stored = readRunConfig(dir);
    expect(stored.losses.contentWeight).toBe(0);
    expect(stored.vgg).toBeNull();
    expect(stored.model.channels).toBe(1);
    expect(readdirSync(p.samples).sort()).toEqual(['iter_0000003.png', 'iter_0000004.png']);
    const sample = await readImage(join(p.samples, 'iter_0000004.png'));
    expect([sample.width, sample.height, sample.channels, sample.bitDepth]).toEqual([96, 32, 1, 8]);
    expect(readLog(p.log).map((e) => e.iteration)).toEqual([2, 4]);
    // Unpaired: each domain is split on its own, 80/20, and the split covers every file once.
    const split = loadSplit(p.split);
    expect(split.train.filter((k) => k.startsWith('blurred/'))).toHaveLength(5);
    expect(split.test.filter((k) => k.startsWith('clear/'))).toHaveLength(1);

    const { generator, config: loaded } = await loadGenerator(dir);
    expect(loaded).toEqual(stored);
    const weights = readSafetensors(p.checkpoint).tensors;
    for (const [name, t] of generator.namedParameters()) expect(await t.data(), name).toEqual(weights[`gS.${name}`].data);
    const y = noGrad(() => generator.forward(Tensor.fill([1, 1, 32, 32], 0.5)));
    expect(y.shape).toEqual([1, 1, 32, 32]);
    y.dispose();
    generator.dispose();
  });

  it('z-stack: records the input planes it used and splits by field, so all planes of a field share a side', async () => {
    const stack = join(tmp, 'stack');
    await generateSynth(stack, { ...SYNTH_DEFAULTS.fluorescence, layout: 'zstack', planes: 3, inFocus: 2, count: 5, size: 40, seed: 4 });
    const config = tinyConfig({ iterations: 1 });
    config.data = { ...config.data, root: stack, layout: 'zstack', source: null, target: null, inFocus: 'Z002' };
    const dir = join(tmp, 'stack-run');
    await train({ runDir: dir, config, schedule: { checkpointEvery: 1, sampleEvery: 0, logEvery: 1 } });
    expect(readRunConfig(dir).data.planes).toEqual(['Z001', 'Z003']);
    const split = loadSplit(runPaths(dir).split);
    expect([split.train.length, split.test.length]).toEqual([4, 1]);
    expect([...split.train, ...split.test].sort()).toEqual(['field_0001', 'field_0002', 'field_0003', 'field_0004', 'field_0005']);
  });

  it('loadGenerator: one-line errors for a missing folder, a missing file, another format and another version', async () => {
    const dir = join(tmp, 'gen');
    mkdirSync(dir);
    await expect(loadGenerator(join(tmp, 'nope'))).rejects.toThrow(/^run folder .*nope does not exist$/);
    await expect(loadGenerator(dir)).rejects.toThrow(/has no generator\.safetensors: not a training run folder, or training stopped before its first checkpoint/);
    const path = runPaths(dir).generator;
    writeSafetensors(path, { w: { shape: [1], data: new Float32Array(1) } }, { format: 'comi-checkpoint', version: '1' });
    await expect(loadGenerator(dir)).rejects.toThrow(/gen\/generator\.safetensors is not a COMI generator file \(format 'comi-checkpoint'\)$/);
    const g = new ResnetGenerator({ inChannels: 1, outChannels: 1, ngf: 4, blocks: 1 });
    const config = tinyConfig();
    config.model.blocks = 1;
    await saveGenerator(path, g, config);
    const { generator } = await loadGenerator(dir);
    generator.dispose();
    const { tensors, metadata } = readSafetensors(path);
    writeSafetensors(path, tensors, { ...metadata, version: '2' });
    await expect(loadGenerator(dir)).rejects.toThrow(/is generator file version 2; this program reads version 1$/);
    writeSafetensors(path, tensors, { ...metadata, config: JSON.stringify({ ...config, version: 7 }) });
    await expect(loadGenerator(dir)).rejects.toThrow(/is run format version 7; this program reads version 1$/);
    writeSafetensors(path, tensors, { ...metadata, config: JSON.stringify({ ...config, model: { ...config.model, blocks: 3 } }) });
    await expect(loadGenerator(dir)).rejects.toThrow(/generator\.safetensors: state dict is missing 14 parameters: model\.11\.conv_block\.1\.weight, /);
    g.dispose();
  });

  it('a new run that fails before its first checkpoint leaves no folder; an existing non-empty folder is refused', async () => {
    const dir = join(tmp, 'failed');
    const config = tinyConfig();
    config.data.size = 64; // larger than the 48² images
    await expect(train({ runDir: dir, config, schedule })).rejects.toThrow(/smaller than the crop size 64/);
    expect(existsSync(dir)).toBe(false);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    await expect(train({ runDir: empty, config, schedule })).rejects.toThrow(/crop size/);
    expect(readdirSync(empty)).toEqual([]);
    const stop = new AbortController();
    stop.abort();
    await expect(train({ runDir: dir, config: tinyConfig(), schedule, signal: stop.signal })).rejects.toThrow(/^interrupted before training started; the new run folder was removed$/);
    expect(existsSync(dir)).toBe(false);
    const busy = join(tmp, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    await expect(train({ runDir: busy, config: tinyConfig(), schedule })).rejects.toThrow(/busy exists and is not empty; choose a new folder, or pass --resume/);
    expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('mine');
    await expect(train({ runDir: busy, schedule })).rejects.toThrow(/busy is not a run folder: it has no config\.json$/);
  });
});

describe('supervised training and the held-out guard', () => {
  it('cycle and adversarial weights 0 train G_s alone on L1+SSIM; checkpoints log held-out PCC; summary.json holds the last check', async () => {
    const dir = join(tmp, 'supervised');
    const config = tinyConfig({ iterations: 4 });
    config.losses = { gan: 'lsgan', adversarialWeight: 0, contentWeight: 1, cycleWeight: 0, content: ['l1', 'ssim'] };
    const r = await train({ runDir: dir, config, schedule: { checkpointEvery: 2, sampleEvery: 0, logEvery: 1 } });
    const log = readLog(runPaths(dir).log);
    expect(log.filter((e) => e.heldOut).map((e) => e.iteration)).toEqual([2, 4]);
    for (const e of log) expect([e.losses.gAdv, e.losses.gCycle, e.losses.dT, e.losses.dS]).toEqual([0, 0, 0, 0]);
    expect(log.every((e) => e.losses.gContent > 0)).toBe(true);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.iteration).toBe(4);
    expect(summary.heldOut).toEqual(r.heldOut);
    expect(summary.heldOut.inputPcc).toBeGreaterThan(0);
    // G_t and the discriminators were never updated: the checkpoint holds their initial weights.
    const init = new ResnetGenerator({ inChannels: 1, outChannels: 1, ngf: 4, blocks: 2, seed: 5 * 4 + 2 });
    const weights = readSafetensors(runPaths(dir).checkpoint).tensors;
    for (const [name, t] of init.namedParameters()) expect(weights[`gT.${name}`].data, name).toEqual(await t.data());
    init.dispose();
  });

  it('warns when the corrected correlation is negative, not finite, or below the input\'s', () => {
    expect(heldOutWarning(-0.37, 0.8)).toMatch(/inverts or destroys/);
    expect(heldOutWarning(NaN, 0.8)).toMatch(/inverts or destroys/);
    expect(heldOutWarning(0.7, 0.8)).toMatch(/below the uncorrected input's 0.800/);
    expect(heldOutWarning(0.9, 0.8)).toBeNull();
  });
});

describe('fine-tuning and shipped correctors', () => {
  it('--init starts G_s from a trained corrector: with a vanishing learning rate the weights stay the initial ones', async () => {
    const base = join(tmp, 'init-base');
    await train({ runDir: base, config: tinyConfig({ iterations: 2 }), schedule: { checkpointEvery: 2, sampleEvery: 0, logEvery: 1 } });
    const tuned = join(tmp, 'init-tuned');
    const config = { ...tinyConfig({ iterations: 1 }), init: base, seed: 9 };
    config.optim.lr = 1e-12;
    await train({ runDir: tuned, config, schedule: { checkpointEvery: 1, sampleEvery: 0, logEvery: 1 } });
    const a = await loadGenerator(base);
    const b = await loadGenerator(tuned);
    for (const [name, t] of a.generator.namedParameters()) {
      const want = await t.data();
      const got = await b.generator.namedParameters().find(([n]) => n === name)![1].data();
      expect(Math.max(...got.map((v, i) => Math.abs(v - want[i]))), name).toBeLessThan(1e-6);
    }
    expect(b.config.init).toBe(base);
    a.generator.dispose();
    b.generator.dispose();
  });

  it('--init with another architecture or channel count is refused in one line', async () => {
    const config = { ...tinyConfig({ iterations: 1 }), init: join(tmp, 'init-base') };
    config.model = { ...config.model, ngf: 8 };
    await expect(train({ runDir: join(tmp, 'init-bad'), config, schedule })).rejects.toThrow(/^--init .*init-base has ngf 4, but this run asks for ngf 8$/);
    expect(existsSync(join(tmp, 'init-bad'))).toBe(false);
  });

  it('pretrained:NAME names a corrector shipped in models/; an unknown name lists the shipped ones', async () => {
    expect(() => modelFolder('pretrained:nope')).toThrow(/^no pretrained model 'nope'; shipped: pretrained:brightfield, pretrained:fluorescence$/);
    const { generator, config } = await loadGenerator('pretrained:fluorescence');
    expect(config.model.channels).toBe(1);
    const y = noGrad(() => generator.forward(Tensor.fill([1, 1, 32, 32], 0.1)));
    expect((await y.data()).every(Number.isFinite)).toBe(true);
    y.dispose();
    generator.dispose();
  });
});

describe('learning rate', () => {
  it('is constant until decayStart, then falls linearly to lr/(n_decay + 1) at the last iteration (CycleGAN linear policy)', () => {
    const o = { lr: 1e-4, beta1: 0.5, beta2: 0.99, iterations: 100, decayStart: 50, batch: 1, poolSize: 50 };
    expect(learningRate(o, 0)).toBe(1e-4);
    expect(learningRate(o, 48)).toBe(1e-4);
    expect(learningRate(o, 49)).toBe(1e-4);
    expect(learningRate(o, 50)).toBeCloseTo(1e-4 * (1 - 1 / 51), 15);
    expect(learningRate(o, 99)).toBeCloseTo(1e-4 / 51, 15);
    expect(learningRate({ ...o, decayStart: 100 }, 99)).toBe(1e-4);
  });
});

describe('--time-limit', () => {
  it('iterationsWithin: the steps and checks that fit in the seconds left, at most the planned, at least the least', () => {
    const t = { secondsLeft: 100, secondsPerIteration: 0.5, secondsPerCheck: 5, checks: 4, done: 11, least: 12, planned: 1000 };
    expect(iterationsWithin(t)).toBe(11 + (100 - 4 * 5) / 0.5); // 171
    expect(iterationsWithin({ ...t, secondsLeft: 100.4 })).toBe(171); // a part of a step does not fit
    expect(iterationsWithin({ ...t, secondsLeft: 1e6 })).toBe(1000);
    expect(iterationsWithin({ ...t, secondsLeft: 10 })).toBe(12);
    expect(iterationsWithin({ ...t, secondsLeft: -3 })).toBe(12);
    expect(iterationsWithin({ ...t, secondsLeft: -3, least: 11 })).toBe(11); // later re-sizes may end the run now
  });

  it('checksLeft: the scheduled checks after an iteration, the last iteration always one', () => {
    expect(checksLeft(0, 100, 25)).toBe(4);
    expect(checksLeft(25, 100, 25)).toBe(3);
    expect(checksLeft(30, 90, 25)).toBe(3); // 50, 75 and the last, 90
    expect(checksLeft(89, 90, 25)).toBe(1);
    expect(checksLeft(90, 90, 25)).toBe(0);
  });

  it('shortens a new run after the timed steps, scales its decay start and checks, and records it; a roomy limit changes nothing', async () => {
    const dir = join(tmp, 'time-limited');
    const planned = tinyConfig({ iterations: 1000 });
    let shortened = 0;
    const notes: string[] = [];
    // A limit already spent when the probe ends: one more step than the probe, the least a run trains.
    const r = await train({
      runDir: dir, config: planned, timeLimit: 1e-3, schedule: { checkpointEvery: 250, sampleEvery: 0, logEvery: 1 },
      onShortened: (n) => (shortened = n), onNote: (m) => notes.push(m),
    });
    const n = PROBE_ITERATIONS + 2;
    expect(r.iteration).toBe(n);
    expect(shortened).toBe(n);
    const stored = readRunConfig(dir);
    expect(stored.optim.iterations).toBe(n);
    expect(stored.optim.decayStart).toBe(Math.round((500 * n) / 1000));
    expect(stored.schedule!.checkpointEvery).toBe(Math.ceil(n / 4)); // the planned 4 checks
    expect(readCheckpoint(runPaths(dir).checkpoint).meta.iteration).toBe(n);
    expect(notes.some((m) => m.startsWith(`--time-limit 0 min: ${n} of 1000 iterations fit at this machine's `))).toBe(true);
    await expect(train({ runDir: dir, schedule, timeLimit: 60, iterations: 40 })).rejects.toThrow(/^--time-limit sets the length of a new run; a resumed run keeps its own \(give --iters to change it\)$/);

    // A machine that slows down after the probe: later steps shorten the run again, so that it still ends in time.
    const slowing = join(tmp, 'time-slowing');
    let virtualMs = 0;
    const limit = 30;
    const slowNotes: string[] = [];
    const r3 = await train({
      runDir: slowing, config: tinyConfig({ iterations: 1000 }), timeLimit: limit, clock: () => virtualMs,
      schedule: { checkpointEvery: 250, sampleEvery: 0, logEvery: 100 }, onNote: (m) => slowNotes.push(m),
      onIteration: (e) => (virtualMs += e.iteration <= PROBE_ITERATIONS + 1 ? 100 : 1000),
    });
    const probed = Number(/^--time-limit 0\.5 min: (\d+) of 1000 iterations fit at this machine's 10\.00 it\/s/.exec(slowNotes[0] ?? '')?.[1]);
    expect(probed).toBeGreaterThan(250); // ~29 s left at 0.1 s a step
    expect(r3.iteration).toBeLessThan(probed / 5);
    expect(slowNotes.some((m) => /^--time-limit: \d+ iterations fit now \(\d+ before\) at the last \d+ steps' \d+\.\d\d it\/s$/.test(m))).toBe(true);
    expect(virtualMs / 1000).toBeGreaterThan(limit - 1);
    expect(virtualMs / 1000).toBeLessThanOrEqual(limit + 1); // at most one slow step past the limit
    expect(readRunConfig(slowing).optim.iterations).toBe(r3.iteration);
    expect(readCheckpoint(runPaths(slowing).checkpoint).meta.iteration).toBe(r3.iteration);

    const roomy = join(tmp, 'time-roomy');
    const r2 = await train({ runDir: roomy, config: tinyConfig({ iterations: 14 }), timeLimit: 3600, schedule: { checkpointEvery: 7, sampleEvery: 0, logEvery: 5 }, onShortened: () => { throw new Error('not shortened'); } });
    expect(r2.iteration).toBe(14);
    expect(readRunConfig(roomy).optim).toEqual(tinyConfig({ iterations: 14 }).optim);
    // A scaled check cadence need not divide by the log's: every check is logged all the same.
    const log = readLog(runPaths(roomy).log);
    expect(log.map((e) => e.iteration)).toEqual([5, 7, 10, 14]);
    expect(log.filter((e) => e.heldOut).map((e) => e.iteration)).toEqual([7, 14]);
  });

  it('sizes the run at the speed of steps that compiled and tuned nothing (autotune trials run in the first steps)', async () => {
    const saved = { tune: process.env.COMI_AUTOTUNE, cache: process.env.COMI_CACHE };
    process.env.COMI_AUTOTUNE = '1';
    process.env.COMI_CACHE = mkdtempSync(join(tmp, 'cache-'));
    try {
      // A machine where a step that compiles pipelines or records trials takes 1 s and any other 0.1 s.
      let virtualMs = 0;
      let seen = [rt().pipelineCount, trialsRecorded()];
      const settling: number[] = [];
      const notes: string[] = [];
      await train({
        runDir: join(tmp, 'time-tuning'), config: tinyConfig({ iterations: 1000 }), timeLimit: 60, clock: () => virtualMs,
        schedule: { checkpointEvery: 500, sampleEvery: 0, logEvery: 100 }, onNote: (m) => notes.push(m),
        onIteration: (e) => {
          const now = [rt().pipelineCount, trialsRecorded()];
          const slow = now[0] !== seen[0] || now[1] !== seen[1];
          if (slow) settling.push(e.iteration);
          seen = now;
          virtualMs += slow ? 1000 : 100;
          if (e.iteration === PROBE_ITERATIONS + 2) throw new Error('probed');
        },
      }).catch((err: Error) => expect(err.message).toBe('probed'));
      // Trials after the first step (each layer's gradient pairing is tuned in the second), left out of the speed.
      expect(settling.filter((i) => i > 1).length).toBeGreaterThan(0);
      expect(notes.some((m) => /^--time-limit 1 min: \d+ of 1000 iterations fit at this machine's 10\.00 it\/s/.test(m))).toBe(true);
    } finally {
      for (const [name, value] of [['COMI_AUTOTUNE', saved.tune], ['COMI_CACHE', saved.cache]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe('--keep best: the corrector kept is the best validation check, iteration 0 included', () => {
  const supervised = (iterations: number, lr: number): RunConfig => {
    const config = tinyConfig({ iterations });
    config.model.globalResidual = true;
    config.startAtInput = true;
    config.losses = { gan: 'lsgan', adversarialWeight: 0, contentWeight: 1, cycleWeight: 0, content: ['l1'] };
    config.optim = { ...config.optim, lr, decayStart: iterations };
    return config;
  };
  const identityGap = async (dir: string) => {
    const { generator } = await loadGenerator(dir);
    const x = Tensor.fromArray(Float32Array.from({ length: 32 * 32 }, (_, i) => Math.sin(i * 0.37) * 0.8), [1, 1, 32, 32]);
    const y = noGrad(() => generator.forward(x));
    const [a, b] = [await x.data(), await y.data()];
    [x, y].forEach((t) => t.dispose());
    generator.dispose();
    return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  };

  it('a run whose checks all score below its start keeps the start (with --start-at-input: the input); --keep last keeps the last', async () => {
    let started: unknown;
    const best = join(tmp, 'keep-best');
    // Adam at lr 0.5 moves every weight by ~0.5 per step: the checks score far below the identity start.
    const r = await train({ runDir: best, config: supervised(4, 0.5), schedule: { checkpointEvery: 2, sampleEvery: 0, logEvery: 1, keep: 'best' }, onStart: (s) => (started = s.validation) });
    const checks = readLog(runPaths(best).log).filter((e) => e.validation);
    expect(checks.map((e) => e.iteration)).toEqual([2, 4]);
    expect(r.kept!.iteration).toBe(0);
    expect(r.kept!.startPsnr).toBe(r.kept!.psnr);
    // The start is the identity: it scores as the input does (one validation set, the same convention).
    expect(Math.abs(r.kept!.psnr - checks[0].validation!.inputPsnr)).toBeLessThan(1e-4);
    for (const e of checks) {
      expect(e.validation!.psnr).toBeLessThan(r.kept!.psnr);
      expect(e.validation!.best).toBe(r.kept!.psnr);
    }
    // 6 fields, 20 % held out: one pair, whole (48² is below the window).
    expect(started).toEqual({ pairs: 1, inputPsnr: checks[0].validation!.inputPsnr, kept: r.kept });
    expect(JSON.parse(readFileSync(join(best, 'summary.json'), 'utf8')).kept).toEqual(r.kept);
    expect(readCheckpoint(runPaths(best).checkpoint).meta.kept).toEqual(r.kept);
    expect(await identityGap(best)).toBeLessThanOrEqual(1e-6);

    const last = join(tmp, 'keep-last');
    const r2 = await train({ runDir: last, config: supervised(4, 0.5), schedule: { checkpointEvery: 2, sampleEvery: 0, logEvery: 1, keep: 'last' } });
    expect(r2.kept).toBeUndefined();
    expect(readLog(runPaths(last).log).some((e) => e.validation)).toBe(false);
    expect(await identityGap(last)).toBeGreaterThan(1e-2);
  });

  it('a check that beats the best so far replaces it, and a resumed run goes on from the record in its checkpoint', async () => {
    const dir = join(tmp, 'keep-resume');
    const stop = new AbortController();
    const schedule: TrainSchedule = { checkpointEvery: 2, sampleEvery: 0, logEvery: 1, keep: 'best' };
    await train({ runDir: dir, config: supervised(8, 2e-3), schedule, signal: stop.signal, onIteration: (e) => e.iteration === 4 && stop.abort() });
    const before = readCheckpoint(runPaths(dir).checkpoint).meta.kept!;
    const r = await train({ runDir: dir, schedule });
    const scores = [before, ...readLog(runPaths(dir).log).filter((e) => e.validation && e.iteration > 4).map((e) => ({ iteration: e.iteration, psnr: e.validation!.psnr }))];
    const first = scores.reduce((a, b) => (b.psnr > a.psnr ? b : a));
    expect(before.startPsnr).toBeDefined(); // iteration 0's score travels with the record
    expect(r.kept).toEqual({ ...first, startPsnr: before.startPsnr });
    // generator.safetensors is G_s of the kept iteration: the last checkpoint's G_s exactly when that is the last.
    const gen = readSafetensors(runPaths(dir).generator).tensors;
    const ckpt = readCheckpoint(runPaths(dir).checkpoint).tensors;
    const same = Object.entries(gen).every(([k, t]) => bytes(ckpt[`gS.${k}`].data).equals(bytes(t.data)));
    expect(same).toBe(r.kept!.iteration === 8);
  });
});
