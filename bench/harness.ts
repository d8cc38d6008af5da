// Shared benchmark plumbing: GPU time of a case from timestamp queries where the adapter has them (wall time
// otherwise), benny as the sampling driver for kernel cases, and one results file per adapter
// (bench/results/<adapter>.json, rendered to .md) in which every suite replaces its own section.
import b from 'benny';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import '../src/platform/node.js';
import { initGpu, rt, type Runtime } from '../src/graph/runtime.js';
import { Tensor, type DType } from '../src/graph/tensor.js';
import { hashUniform } from '../src/graph/random.js';
import { CycleGan, type FeatureFn } from '../src/model/cyclegan.js';
import { writeFileAtomic } from '../src/io/atomic.js';

/** bench/results of the project (this file runs from bench/ or, built, from dist/bench/). */
function resultsDir(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, 'bench', 'results');
}
export const RESULTS_DIR = resultsDir();

export async function benchGpu(): Promise<Runtime> {
  return initGpu();
}

export function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A kept tensor of uniform values in [−scale, scale). */
export function randomTensor(shape: number[], seed: number, scale = 1): Tensor {
  return Tensor.fromArray(hashUniform(shape.reduce((a, c) => a * c, 1), seed, scale), shape).keep();
}

/** The training step the step benchmarks run: CycleGAN, 9 ResNet blocks, batch 1, ndf = ngf, LSGAN, random inputs;
 * `features` (VGG19) adds the content loss. The image pool stays unfilled (its draws return 0.5): no draws. */
export function cycleGanStep(size: number, ngf: number, features: FeatureFn | null = null, channels = 3, maps: DType = 'f32'): { step: () => Promise<unknown>; dispose: () => void } {
  const model = new CycleGan({ channels, ngf, ndf: ngf, blocks: 9, contentWeight: features ? 1 : 0, poolSize: 50, seed: 0 }, features, () => 0.5);
  for (const g of [model.gS, model.gT]) g.mapStorage = maps;
  const realS = randomTensor([1, channels, size, size], 11);
  const realT = randomTensor([1, channels, size, size], 12);
  return {
    step: () => model.step(realS, realT),
    dispose: () => {
      model.dispose();
      realS.dispose();
      realT.dispose();
      rt().pool.trim();
    },
  };
}

/** Command-line flags of the form --name value (all optional). */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

export interface Timing {
  /** Median time per call: GPU time from timestamps when `source` is 'timestamps', else wall time. */
  ms: number;
  source: 'timestamps' | 'wall';
  wallMs: number;
  samples: number;
}

/**
 * Times `run` (which records GPU work; what it returns is disposed) with benny: at least minSamples calls after a
 * warm-up, each followed by a submit and a wait. The GPU time of each call is the sum of its dispatches' timestamp
 * intervals.
 */
export async function timeCase(name: string, run: () => Tensor | Tensor[] | null | void, minSamples = 5, maxTime = 2): Promise<Timing> {
  const r = rt();
  const gpu: number[] = [];
  const call = async (record: boolean) => {
    let out: ReturnType<typeof run> = undefined;
    if (record && r.canTime) r.timed(() => (out = run()), (ms) => gpu.push(ms));
    else out = run();
    await r.sync();
    for (const t of [out].flat()) t?.dispose();
  };
  await call(false); // compiles pipelines, runs autotune trials
  await call(false);
  let wallMs = NaN;
  let samples = 0;
  await b.suite(
    name,
    b.add(name, async () => call(true)),
    b.configure({ cases: { minSamples, maxTime, delay: 0 } }),
    b.complete((summary) => {
      const d = summary.results[0].details;
      wallMs = d.median * 1000;
      samples = d.sampleResults.length;
    }),
  );
  // Timestamps of the last submits may still be on their way back.
  for (let i = 0; i < 100 && gpu.length < samples; i++) await new Promise((res) => setTimeout(res, 10));
  if (r.canTime && gpu.length > 0) return { ms: median(gpu), source: 'timestamps', wallMs, samples };
  return { ms: wallMs, source: 'wall', wallMs, samples };
}

/** Runs a step and times it: wall time, and the time from its start to its first flush (recording it; the runtime
 * also submits chunks of it on the way). `runtime` may belong to another build (bench/compare_step.ts): only its flush
 * is watched. */
export async function timeRecording(runtime: { flush(): void }, step: () => Promise<unknown>): Promise<{ wallMs: number; recordMs: number }> {
  const t0 = performance.now();
  let submitted = 0;
  const flush = runtime.flush;
  runtime.flush = function (this: unknown) {
    submitted ||= performance.now();
    flush.call(this);
  };
  try {
    await step();
  } finally {
    delete (runtime as { flush?: unknown }).flush; // back to the prototype's
  }
  return { wallMs: performance.now() - t0, recordMs: submitted - t0 };
}

/** Steps before a training step is steady: the first compiles pipelines and records the autotune trials, the second
 * those of decisions built on their choices (a convolution's gradients together or apart), the third has them all. */
export const WARMUP_STEPS = 3;

export async function warmUp(step: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < WARMUP_STEPS; i++) await step();
}

/** Times an async operation that submits its own work (a training step, a correction) by wall time. */
export async function timeWall(run: () => Promise<unknown>, warmup: number, reps: number): Promise<{ ms: number; all: number[] }> {
  for (let i = 0; i < warmup; i++) await run();
  const all: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    all.push(performance.now() - t0);
  }
  return { ms: median(all), all };
}

export type Section = { title: string; notes: string[]; table: { head: string[]; rows: (string | number)[][] }; data: unknown };

function resultsBase(adapter: string): string {
  return join(RESULTS_DIR, adapter.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase());
}

/** This adapter's stored section of a suite, if any (suites that rerun part of their cases keep the rest). */
export function loadSection(suite: string): (Section & { date: string }) | null {
  try {
    return JSON.parse(readFileSync(`${resultsBase(rt().gpu.adapterName)}.json`, 'utf8')).sections?.[suite] ?? null;
  } catch {
    return null;
  }
}

/** Replaces one suite's section of this adapter's results and re-renders the Markdown. */
export function saveSection(suite: string, section: Section): void {
  writeSection(rt().gpu.adapterName, suite, { ...section, date: new Date().toISOString() });
}

/** The same for a named adapter, keeping the section's date (also used to merge results measured elsewhere). */
export function writeSection(adapter: string, suite: string, section: Section & { date: string }): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = resultsBase(adapter);
  let doc: { adapter: string; sections: Record<string, Section & { date: string }> } = { adapter, sections: {} };
  if (existsSync(`${base}.json`)) {
    try {
      const old = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
      if (old.sections) doc = old;
    } catch {
      // an unreadable file is replaced
    }
  }
  doc.sections[suite] = section;
  writeFileAtomic(`${base}.json`, JSON.stringify(doc, null, 1) + '\n');
  const order = ['gemm', 'kernels', 'step', 'step-content', 'tfjs', 'correct'];
  const names = Object.keys(doc.sections).sort((x, y) => (order.indexOf(x) + 1 || 99) - (order.indexOf(y) + 1 || 99));
  const md = [`# Benchmarks on ${doc.adapter}`, ''];
  for (const n of names) {
    const s = doc.sections[n];
    md.push(`## ${s.title}`, '', `Measured ${s.date.slice(0, 16).replace('T', ' ')} UTC.`, '', ...s.notes, '');
    md.push(`| ${s.table.head.join(' | ')} |`, `|${s.table.head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const row of s.table.rows) md.push(`| ${row.join(' | ')} |`);
    md.push('');
  }
  writeFileAtomic(`${base}.md`, md.join('\n'));
  console.log(`results: ${base}.json, ${base}.md`);
}

/** GFLOP/s of `flop` floating-point operations in `ms`. */
export const gflops = (flop: number, ms: number): number => flop / ms / 1e6;

export const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
