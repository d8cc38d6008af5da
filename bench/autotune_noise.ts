// Autotune's decision rule: several fresh tunings of one training step in one process, every trial's times (and
// dispatches) kept; then the choices that each decision rule makes from those same trials are timed on the step, all
// alternated step by step, so that a rule is judged by the steps its choices give rather than by its own trials.
//   node dist/bench/autotune_noise.js [--config 64:16] [--tunings 6] [--rounds 7]
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rt } from '../src/graph/runtime.js';
import { autotuneCachePath, candidateCosts, countedFastest, forgetChoices, observeTrials } from '../src/kernels/autotune.js';
import { meanStd } from '../src/eval/compare_stats.js';
import { benchGpu, cycleGanStep, warmUp, median, flag, fmt, saveSection } from './harness.js';

interface Trial { candidates: string[]; times: number[][]; dispatches: number[]; dispatchMs: number }
type Trials = Map<string, Trial>;
type Choices = Record<string, unknown>;
type Rule = (t: Trial) => number[];

/** Each rule scores every candidate from its trials (times in recording order, warm-up first); the lowest is
 * chosen. */
const RULES: [string, Rule][] = [
  ['fastest of 5 after a warm-up run, GPU time only (before)', (t) => countedFastest(t.times)],
  ['the same plus its dispatches\' recording time (now)', (t) => candidateCosts(t.times, t.dispatches, t.dispatchMs)],
];

function choose(trials: Trials, score: Rule): Choices {
  const out: Choices = {};
  for (const [key, trial] of trials) {
    const { candidates } = trial;
    const s = score(trial);
    out[key] = JSON.parse(candidates[s.indexOf(Math.min(...s))]);
  }
  return out;
}

/** Points the autotuner at a cache holding exactly these choices. */
function useCache(dir: string): void {
  process.env.COMI_CACHE = dir;
  forgetChoices();
}

async function main(): Promise<void> {
  const r = await benchGpu();
  if (!r.canTime) throw new Error(`${r.gpu.adapterName} has no timestamp queries: nothing is tuned there`);
  const [size, ngf] = flag('config', '64:16').split(':').map(Number);
  const tunings = Number(flag('tunings', '6'));
  const rounds = Number(flag('rounds', '7'));
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'comi-tune-'));
    dirs.push(d);
    return d;
  };
  const { step, dispose } = cycleGanStep(size, ngf);
  try {
    const all: Trials[] = [];
    for (let t = 0; t < tunings; t++) {
      useCache(tempDir());
      const trials: Trials = new Map();
      observeTrials((key, candidates, times, dispatches, dispatchMs) => trials.set(key, { candidates, times: times.map((x) => [...x]), dispatches: [...dispatches], dispatchMs }));
      // The warm-up steps record the trials (the last, those built on earlier choices); then their times have all
      // arrived.
      await warmUp(step);
      await r.sync();
      observeTrials(null);
      all.push(trials);
      console.log(`  tuning ${t + 1}/${tunings}: ${trials.size} classes`);
    }
    const arms = RULES.flatMap(([rule, score], k) => all.map((trials, t) => {
      const dir = tempDir();
      const choices = choose(trials, score);
      process.env.COMI_CACHE = dir;
      writeFileSync(autotuneCachePath(), JSON.stringify({ [r.gpu.adapterName]: choices }));
      return { rule: k, tuning: t, dir, choices, ms: [] as number[], dispatches: 0 };
    }));
    for (const arm of arms) {
      useCache(arm.dir);
      await step(); // every arm's pipelines and bind groups once before timing
    }
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < arms.length; i++) {
        const arm = arms[(i + round) % arms.length];
        useCache(arm.dir);
        const t0 = performance.now();
        const d0 = r.dispatchCount;
        await step();
        arm.ms.push(performance.now() - t0);
        arm.dispatches = r.dispatchCount - d0;
      }
    }
    const rows = RULES.map(([rule], k) => {
      const mine = arms.filter((a) => a.rule === k);
      const medians = mine.map((a) => median(a.ms));
      const { mean, std } = meanStd(medians);
      const keys = Object.keys(mine[0].choices);
      const alike = keys.filter((key) => new Set(mine.map((a) => JSON.stringify(a.choices[key]))).size === 1).length;
      const dispatches = mine.map((a) => a.dispatches).join(', ');
      console.log(`  ${rule}: ${fmt(mean)} ± ${fmt(std)} ms (${medians.map((m) => fmt(m, 0)).join(', ')}); dispatches ${dispatches}; ${alike} of ${keys.length} classes chosen alike by every tuning`);
      return [rule, `${fmt(mean)} ± ${fmt(std)}`, medians.map((m) => fmt(m, 0)).join(', '), dispatches, `${alike} / ${keys.length}`];
    });
    saveSection('autotune-noise', {
      title: `Autotune decision rules on the same trials: ${size}²/ngf ${ngf} training step`,
      notes: [
        `${tunings} fresh tunings in one process (every trial: a warm-up run, then 5), each rule's choices from those same trials; every rule × tuning timed on the step, alternated, ${rounds} rounds. Step: wall time, median over the rounds per tuning, then mean ± std over the tunings.`,
      ],
      table: { head: ['rule', 'step ms, mean ± std over tunings', 'per tuning', 'dispatches per step', 'classes chosen alike by every tuning'], rows },
      data: { size, ngf, tunings, rounds, arms: arms.map(({ rule, tuning, ms, dispatches }) => ({ rule: RULES[rule][0], tuning, ms, dispatches })) },
    });
  } finally {
    dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main().then(() => process.exit(0));
