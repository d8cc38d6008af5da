// Per-adapter kernel variants. Every kernel with variants (tile shapes, register tiles vs workgroup-memory tiles,
// reduction width) starts from a default chosen by the adapter's kind; on first use of a shape class a short trial
// times each candidate with timestamp queries inside the work being recorded (no extra submit, no wait), and the
// fastest is used from then on and cached per adapter in $COMI_CACHE/autotune-v13.json (default
// ~/.cache/comi/autotune-v13.json). Candidates compute the same sums in the same order per output or differ only by
// fp32 reassociation (Winograd also by its transforms' rounding, within the oracle tolerance: test/kernels/
// conv.test.ts). COMI_AUTOTUNE=0 keeps the defaults (deterministic tests).
import { rt } from '../graph/runtime.js';
import { platform } from '../platform/platform.js';
import type { Reduction } from '../graph/kernel.js';

/** Part of the cache file's name. Bump it when kernels or candidate sets change: a cached choice is only as good
 * as the candidates (and kernels) it was timed against. */
const CACHE_VERSION = 13;

/** Timed runs per candidate: the first of each is a warm-up and not counted (a GPU's clock ramps up in the first
 * step; the H200's trials of one class varied up to 2.5× between processes), and the fastest of the others decides:
 * interference (the recording thread, other processes) only ever adds time. Chosen on recorded trials,
 * bench/autotune_noise.ts. */
export const WARMUP_REPS = 1;
export const TRIAL_REPS = 5;
/** Counted runs where one run is long (a CPU adapter's large layers, tens to hundreds of ms): their noise is small
 * against their length, and five each made the trials most of a first correction (~80 s of the Leishmania image's
 * 120 on lavapipe). */
export const LONG_TRIAL_REPS = 2;

/** Each candidate's fastest counted trial (its times in recording order, warm-up first). */
export function countedFastest(times: readonly (readonly number[])[]): number[] {
  return times.map((t) => Math.min(...t.slice(WARMUP_REPS)));
}

/** What each candidate costs a step: its fastest counted trial plus the host's time to record its dispatches
 * (`dispatchMs` each). Timestamps see only the GPU's side; a candidate that splits its work into more dispatches
 * (Winograd's transforms, split-K's sums) also costs the CPU, which bounds small steps on GPUs and shares the cores
 * with the work itself on CPU adapters. */
export function candidateCosts(times: readonly (readonly number[])[], dispatches: readonly number[], dispatchMs: number): number[] {
  return countedFastest(times).map((ms, k) => ms + dispatches[k] * dispatchMs);
}

/** Sees every finished trial: the candidates, each one's times in recording order (warm-up included) and
 * dispatches, and the host's time per dispatch then. */
export type TrialObserver = (key: string, candidates: string[], times: number[][], dispatches: number[], dispatchMs: number) => void;
let observer: TrialObserver | null = null;

/** Benchmarks: watch the trials (null stops). */
export function observeTrials(fn: TrialObserver | null): void {
  observer = fn;
}

/** Forgets this process's choices (benchmarks: a fresh tuning; the next use of a key reads its cache file again). */
export function forgetChoices(): void {
  cache = null;
}

type Choices = Record<string, unknown>;
type CacheFile = Record<string, Choices>;

/** The cache file read for this adapter, and each key's choice as found among its candidates (looked up once: a
 * step asks for ~300 choices). */
let cache: { path: string; file: CacheFile; adapter: Choices; found: Map<string, unknown> } | null = null;
const inFlight = new Set<string>();

export function autotuneEnabled(): boolean {
  return platform().env('COMI_AUTOTUNE') !== '0';
}

const CACHE_NAME = `autotune-v${CACHE_VERSION}.json`;

export function autotuneCachePath(): string {
  return platform().store.path(CACHE_NAME);
}

function choices(): Choices {
  const path = autotuneCachePath();
  if (cache?.path !== path) {
    let file: CacheFile = {};
    try {
      const text = platform().store.read(CACHE_NAME);
      if (text !== null) file = JSON.parse(text) as CacheFile;
    } catch {
      file = {}; // a damaged cache only costs a re-tune
    }
    const name = rt().gpu.adapterName;
    file[name] ??= {};
    cache = { path, file, adapter: file[name], found: new Map() };
  }
  return cache.adapter;
}

function save(): void {
  if (!cache) return;
  try {
    platform().store.write(CACHE_NAME, JSON.stringify(cache.file, null, 1) + '\n');
  } catch (err) {
    console.warn(`autotune: cannot write ${cache.path} (${(err as Error).message}); choices are kept for this run only`);
  }
}

/** A CPU adapter (lavapipe, SwiftShader): divergent memory accesses and barriers are expensive there. */
export function cpuLikeAdapter(): boolean {
  const info = rt().gpu.adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return info.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader/i.test(rt().gpu.adapterName);
}

/** Whether `key` has a choice (autotuning on): a decision built on it can be timed against what will run. */
export function decided(key: string): boolean {
  return autotuneEnabled() && key in choices();
}

let keysTried = 0;

/** Keys whose trials have been recorded so far: a step that records some is not yet a loop's steady state. */
export function trialsRecorded(): number {
  return keysTried;
}

/**
 * The variant for `key` (op and shape class): the cached choice, else `fallback` — and, the first time the key is
 * seen with autotuning on, `trial(candidate)` is recorded for each candidate under timestamp queries; the fastest
 * becomes the choice once their times arrive (after the current step's submit), on `counted` runs after the
 * warm-up. `trial` must write only to scratch buffers.
 */
export function tuned<C>(key: string, candidates: C[], fallback: C, trial: (c: C) => void, counted = TRIAL_REPS): C {
  // Off means the defaults, not the cache's choices: tests must not depend on what this machine tuned before.
  if (!autotuneEnabled()) return fallback;
  const chosen = choices();
  const found = cache!.found;
  if (found.has(key)) return found.get(key) as C;
  const id = (c: C) => JSON.stringify(c);
  if (key in chosen) {
    const hit = candidates.find((c) => id(c) === id(chosen[key] as C));
    if (hit) {
      found.set(key, hit);
      return hit;
    }
  }
  const r = rt();
  if (!r.canTime || candidates.length < 2 || inFlight.has(key)) return fallback;
  inFlight.add(key);
  keysTried++;
  const times: number[][] = candidates.map(() => []);
  const dispatches: number[] = candidates.map(() => 0);
  const reps = WARMUP_REPS + counted;
  let left = candidates.length * reps;
  for (let rep = 0; rep < reps; rep++) {
    candidates.forEach((c, i) => {
      r.timed(() => {
        const before = r.dispatchCount;
        trial(c);
        dispatches[i] = r.dispatchCount - before;
      }, (ms) => {
        times[i][rep] = ms;
        if (--left > 0) return;
        const dispatchMs = r.dispatchCostMs();
        const costs = candidateCosts(times, dispatches, dispatchMs);
        const best = costs.indexOf(Math.min(...costs));
        chosen[key] = candidates[best];
        observer?.(key, candidates.map(id), times, dispatches, dispatchMs);
        // COMI_AUTOTUNE_LOG=1: each candidate's fastest time and dispatches (bench/device.sh logs where a GPU's
        // time goes).
        if (platform().env('COMI_AUTOTUNE_LOG') === '1') {
          const fastest = countedFastest(times);
          console.log(`autotune ${key} (${dispatchMs.toFixed(3)} ms a dispatch): ${candidates.map((c, k) => `${id(c)} ${fastest[k].toFixed(3)} ms ×${dispatches[k]}`).join(' | ')} → ${id(candidates[best])}`);
        }
        inFlight.delete(key);
        save();
      });
    });
  }
  return fallback;
}

/** The workgroup reduction of the normalisation and bias-gradient kernels (src/graph/kernel.ts): the whole
 * workgroup as one subgroup on CPU adapters (no barriers), else the tree of 256. COMI_REDUCTION=tree|subgroup or
 * setReduction forces one (tests run the GPUs' tree on lavapipe); a forced subgroup needs the adapter's support. */
let forcedReduction: Reduction['kind'] | null = null;

export function setReduction(kind: Reduction['kind'] | null): void {
  forcedReduction = kind;
}

export function reductionVariant(): Reduction {
  const r = rt();
  const minSize = (r.gpu.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number }).subgroupMinSize ?? 0;
  const subgroups = r.gpu.features.has('subgroups') && minSize >= 4;
  const forced = forcedReduction ?? (platform().env('COMI_REDUCTION') as Reduction['kind'] | undefined);
  if (forced === 'tree') return { kind: 'tree', wg: 256 };
  if (forced === 'subgroup' && !subgroups) throw new Error(`COMI_REDUCTION=subgroup: ${r.gpu.adapterName} has no subgroups of at least 4`);
  if (forced === 'subgroup' || (cpuLikeAdapter() && subgroups)) return { kind: 'subgroup', wg: minSize };
  return { kind: 'tree', wg: 256 };
}
