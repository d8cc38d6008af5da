// Kernel variant selection (src/kernels/autotune.ts) and the runtime's timestamp timing it relies on: trials run
// inside the recorded work, the choice is cached per adapter, results do not depend on the choice, and
// COMI_AUTOTUNE=0 records no trials.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { Tensor } from '../../src/graph/tensor.js';
import { rt } from '../../src/graph/runtime.js';
import { hashUniform } from '../../src/graph/random.js';
import { conv2d } from '../../src/kernels/conv2d.js';
import { backward } from '../../src/autograd/tape.js';
import { convCandidates, convPairCandidates, inputGrad } from '../../src/kernels/conv_gemm.js';
import { autotuneCachePath, observeTrials, countedFastest, candidateCosts, cpuLikeAdapter, WARMUP_REPS, TRIAL_REPS, LONG_TRIAL_REPS } from '../../src/kernels/autotune.js';

useGpu();

const rand = (shape: number[], seed: number) => Tensor.fromArray(hashUniform(shape.reduce((a, b) => a * b, 1), seed), shape);

/** process.env.NAME = undefined would store the string "undefined". */
function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** Dispatches one timed trial of each candidate records: a split-K candidate (GPUs only; a layer this small always
 * splits) is its gather plus the sum of its slices, a fold pass (GPUs only) its gather plus the fold that also adds
 * the slices, Winograd its GEMMs and inverse transform after two transforms (a 3×3 stride-1 forward, F(2×2) or
 * F(4×4)) or one that makes both of an input gradient's operands. */
/** Winograd: operands, GEMMs, inverse transform (forward and input gradient alike). */
const trialDispatches = (candidates: ReturnType<typeof convCandidates>) =>
  candidates.reduce((n, c) => n + (c.strategy === 'winograd' ? 3 : c.splitK || c.foldPass ? 2 : 1), 0);

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((res) => setTimeout(res, 50));
}

describe('autotune', () => {
  let dir = '';
  const saved = { cache: process.env.COMI_CACHE, tune: process.env.COMI_AUTOTUNE };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comi-autotune-'));
    process.env.COMI_CACHE = dir;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    restoreEnv('COMI_CACHE', saved.cache);
    restoreEnv('COMI_AUTOTUNE', saved.tune);
  });

  it('times every candidate on first use, caches the fastest per adapter, and gives the same result', async () => {
    const x = rand([1, 5, 12, 10], 1);
    const w = rand([6, 5, 3, 3], 2);
    const b = rand([6], 3);
    process.env.COMI_AUTOTUNE = '0';
    const reference = await conv2d(x, w, b, { padding: 1 }).data();

    process.env.COMI_AUTOTUNE = '1';
    const r = rt();
    const before = r.dispatchCount;
    const first = await conv2d(x, w, b, { padding: 1 }).data();
    // One real dispatch plus the timed trials of each candidate (a warm-up, then the counted ones).
    expect(r.dispatchCount - before).toBe(1 + (WARMUP_REPS + TRIAL_REPS) * trialDispatches(convCandidates('directGather', Infinity, false, true, true)));
    await waitFor(autotuneCachePath());
    const file = JSON.parse(readFileSync(autotuneCachePath(), 'utf8'));
    const choices = file[r.gpu.adapterName];
    const key = 'conv directGather k3x3 s1 cin8 cout8 px128';
    expect(Object.keys(choices)).toContain(key);
    expect(convCandidates('directGather', Infinity, false, true, true).map((c) => JSON.stringify(c))).toContain(JSON.stringify(choices[key]));

    const again = r.dispatchCount;
    const second = await conv2d(x, w, b, { padding: 1 }).data();
    expect(r.dispatchCount - again).toBe(1);
    // Candidates sum each output over the same taps in the same order: equal up to fp32 reassociation.
    const scale = Math.max(...reference.map(Math.abs));
    for (const out of [first, second]) {
      const err = Math.max(...out.map((v, i) => Math.abs(v - reference[i])));
      expect(err / scale).toBeLessThanOrEqual(1e-6);
    }
  });

  it('tunes a stride-1 input gradient apart from the forward of its shape', async () => {
    process.env.COMI_AUTOTUNE = '1';
    const r = rt();
    const x = rand([1, 5, 12, 10], 8);
    const w = rand([5, 5, 3, 3], 9);
    await conv2d(x, w, null, { padding: 1 }).data();
    await waitFor(autotuneCachePath());
    // The same shape class as that forward (5 → 5 channels, 12×10), but the flipped gather's own trials.
    const g = { N: 1, Cin: 5, H: 12, W: 10, Cout: 5, OH: 12, OW: 10, KH: 3, KW: 3, stride: 1, pad: 1, reflect: true };
    const dx = Tensor.empty([1, 5, 12, 10]);
    const before = r.dispatchCount;
    inputGrad(g, rand([1, 5, 12, 10], 10).binding, w.binding, dx);
    await dx.data();
    expect(r.dispatchCount - before).toBe(1 + (WARMUP_REPS + TRIAL_REPS) * trialDispatches(convCandidates('directGather', 5, true, true)));
    for (let i = 0; i < 100; i++) {
      if (readFileSync(autotuneCachePath(), 'utf8').includes('input grad')) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const choices = JSON.parse(readFileSync(autotuneCachePath(), 'utf8'))[r.gpu.adapterName];
    expect(Object.keys(choices).sort()).toEqual(['conv directGather input grad reflect k3x3 s1 cin8 cout8 px128', 'conv directGather k3x3 s1 cin8 cout8 px128']);
  });

  it('decides a layer\'s gradients together or apart once both gradients\' own variants are chosen, with the same result', async () => {
    const x = rand([1, 5, 12, 10], 11);
    const w = rand([6, 5, 3, 3], 12);
    const b = rand([6], 13);
    const dy = rand([1, 6, 12, 10], 14);
    const gradients = async () => {
      for (const t of [x, w, b]) {
        t.grad?.dispose();
        t.grad = null;
        t.requiresGrad = true;
      }
      backward(conv2d(x, w, b, { padding: 1 }), dy);
      return Promise.all([x, w, b].map((t) => t.grad!.data()));
    };
    process.env.COMI_AUTOTUNE = '0';
    const reference = await gradients();
    process.env.COMI_AUTOTUNE = '1';
    const adapter = rt().gpu.adapterName;
    const choices = async (count: number) => {
      for (let i = 0; i < 200; i++) {
        if (existsSync(autotuneCachePath())) {
          const all = JSON.parse(readFileSync(autotuneCachePath(), 'utf8'))[adapter] ?? {};
          if (Object.keys(all).length >= count) return all;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`no ${count} choices in ${autotuneCachePath()}`);
    };
    const pairKey = 'conv gradients k3x3 s1 cin8 cout8 px128';
    const runs = [await gradients()];
    // The forward, the input gradient and the weight gradient: the pair waits for the last two.
    expect(Object.keys(await choices(3))).not.toContain(pairKey);
    runs.push(await gradients());
    const pair = (await choices(4))[pairKey];
    const g = { N: 1, Cin: 5, H: 12, W: 10, Cout: 6, OH: 12, OW: 10, KH: 3, KW: 3, stride: 1, pad: 1 };
    expect(convPairCandidates(g).map((c) => JSON.stringify(c))).toContain(JSON.stringify(pair));
    runs.push(await gradients());
    // Winograd against direct sums: equal up to fp32 rounding of the transforms.
    for (const run of runs) {
      run.forEach((grad, k) => {
        const scale = Math.max(...reference[k].map(Math.abs));
        expect(Math.max(...grad.map((v, i) => Math.abs(v - reference[k][i]))) / scale).toBeLessThanOrEqual(1e-5);
      });
    }
  });

  it('chooses the candidate whose fastest counted trial plus its dispatches\' recording is cheapest (the warm-up not counted)', async () => {
    process.env.COMI_AUTOTUNE = '1';
    const seen: { key: string; candidates: string[]; times: number[][]; dispatches: number[]; dispatchMs: number }[] = [];
    observeTrials((key, candidates, times, dispatches, dispatchMs) => seen.push({ key, candidates, times, dispatches, dispatchMs }));
    try {
      await conv2d(rand([1, 7, 11, 9], 12), rand([3, 7, 3, 3], 13), null, { padding: 1 }).data();
      await waitFor(autotuneCachePath());
    } finally {
      observeTrials(null);
    }
    expect(seen.length).toBe(1);
    const { key, candidates, times, dispatches, dispatchMs } = seen[0];
    for (const t of times) expect(t.length).toBe(WARMUP_REPS + TRIAL_REPS);
    // Each candidate's own dispatches: one for register tiles, three for Winograd (this layer is 3×3, stride 1: its
    // operands, GEMMs and inverse transform).
    expect(dispatches).toEqual(candidates.map((c) => (JSON.parse(c).strategy === 'winograd' ? 3 : 1)));
    const costs = candidateCosts(times, dispatches, dispatchMs);
    const choice = JSON.parse(readFileSync(autotuneCachePath(), 'utf8'))[rt().gpu.adapterName][key];
    expect(JSON.stringify(choice)).toBe(candidates[costs.indexOf(Math.min(...costs))]);
  });

  it('runs every trial after the first of its sizes in reused scratch, as a step runs (fresh memory is slower)', async () => {
    process.env.COMI_AUTOTUNE = '1';
    const r = rt();
    const x = rand([1, 7, 11, 9], 16);
    const w = rand([3, 7, 3, 3], 17);
    await x.data();
    r.pool.trim(); // no idle buffers of these sizes left by earlier tests
    const created = r.pool.getStats().created;
    await conv2d(x, w, null, { padding: 1 }).data();
    // The output, one scratch output for all candidates' trials, and the three transformed operands (x's, the
    // filters', the GEMMs') of F(2×2) and of F(4×4) (before trials ran after a submit, each in new buffers: 103).
    expect(r.pool.getStats().created - created).toBe(1 + 1 + 3 + 3);
  });

  it('times a long layer on a CPU adapter with fewer counted runs', async ({ skip }) => {
    if (!cpuLikeAdapter()) skip('only CPU adapters shorten trials');
    process.env.COMI_AUTOTUNE = '1';
    const seen: number[][][] = [];
    observeTrials((_key, _candidates, times) => seen.push(times));
    try {
      // 64 → 64 channels, 3×3 on 128²: 1.2 GFLOP.
      await conv2d(rand([1, 64, 128, 128], 18), rand([64, 64, 3, 3], 19), null, { padding: 1 }).data();
      await conv2d(rand([1, 4, 16, 16], 20), rand([4, 4, 3, 3], 21), null, { padding: 1 }).data();
    } finally {
      observeTrials(null);
    }
    expect(seen.map((times) => times.map((t) => t.length))).toEqual([
      Array(seen[0].length).fill(WARMUP_REPS + LONG_TRIAL_REPS),
      Array(seen[1].length).fill(WARMUP_REPS + TRIAL_REPS),
    ]);
  });

  it('measures the host\'s time per dispatch on dispatches that reuse their bind group', async () => {
    process.env.COMI_AUTOTUNE = '0';
    const x = rand([1, 4, 8, 8], 14);
    const w = rand([4, 4, 3, 3], 15);
    // The output returns to the pool each time, so the next call binds the same buffers.
    for (let i = 0; i < 3; i++) {
      const y = conv2d(x, w, null, { padding: 1 });
      await y.data();
      y.dispose();
    }
    expect(rt().dispatchCostMs()).toBeGreaterThan(0);
    expect(rt().dispatchCostMs()).toBeLessThan(50);
  });

  it('charges each dispatch its recording time', () => {
    // 1.0 ms in 4 dispatches loses to 1.1 ms in one when a dispatch costs the host 0.05 ms; wins when it costs none.
    const times = [[5, 1.0, 1.2, 1.1, 1.3, 1.0], [5, 1.1, 1.1, 1.2, 1.1, 1.15]];
    expect(candidateCosts(times, [4, 1], 0.05).map((c) => +c.toFixed(6))).toEqual([1.2, 1.15]);
    expect(candidateCosts(times, [4, 1], 0)).toEqual([1.0, 1.1]);
  });

  it('counts each candidate by its fastest trial after the warm-up', () => {
    // A cold first run (9) and one interrupted run (7) decide nothing; a median of the first three would pick the
    // second candidate.
    expect(countedFastest([[9, 2, 7, 2.9, 3, 3.1], [1, 2.5, 2.4, 2.6, 2.5, 2.5]])).toEqual([2, 2.4]);
  });

  it('COMI_AUTOTUNE=0 records no trials and writes no cache', async () => {
    process.env.COMI_AUTOTUNE = '0';
    const r = rt();
    const before = r.dispatchCount;
    await conv2d(rand([1, 3, 9, 9], 4), rand([4, 3, 3, 3], 5), null, { stride: 2 }).data();
    expect(r.dispatchCount - before).toBe(1);
    expect(existsSync(autotuneCachePath())).toBe(false);
  });
});

describe('timestamp timing', () => {
  it('says when the adapter cannot time', () => {
    const r = rt();
    expect(r.canTime).toBe(r.gpu.features.has('timestamp-query'));
    if (!r.canTime) expect(() => r.startTiming()).toThrow(/has no timestamp queries/);
  });

  // Adapters without timestamp queries fall back to wall time in the benchmarks (lavapipe has them): reported as
  // skipped there, not passed.
  it('reports the GPU time of each dispatch recorded while timing', async ({ skip }) => {
    const r = rt();
    if (!r.canTime) skip(`${r.gpu.adapterName} has no timestamp queries`);
    const x = rand([1, 4, 16, 16], 6);
    const w = rand([4, 4, 3, 3], 7);
    r.startTiming();
    conv2d(x, w, null, { padding: 1 });
    conv2d(x, w, null, { padding: 1 });
    const timings = await r.stopTiming();
    // The label is the strategy's shader (register tiles on CPU adapters, workgroup-memory tiles on GPUs).
    const labels = timings.map((t) => t.label);
    expect(labels).toHaveLength(2);
    expect(labels[0]).toMatch(/^conv/);
    expect(labels[1]).toBe(labels[0]);
    for (const t of timings) expect(t.ms).toBeGreaterThanOrEqual(0);
    let total = -1;
    r.timed(() => conv2d(x, w, null, { padding: 1 }), (ms) => (total = ms));
    await r.sync();
    for (let i = 0; i < 100 && total < 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(total).toBeGreaterThanOrEqual(0);
  });
});
