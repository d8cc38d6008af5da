// Per-adapter kernel variants. Every kernel with variants (tile shapes, register tiles vs workgroup-memory tiles,
// reduction width) starts from a default chosen by the adapter's kind; on first use of a shape class a short trial
// times each candidate with timestamp queries inside the work being recorded (no extra submit, no wait), and the
// fastest is used from then on and cached per adapter in $COMI_CACHE/autotune-v7.json (default
// ~/.cache/comi/autotune-v7.json). Candidates compute the same sums in the same order per output or differ only by
// fp32 reassociation. COMI_AUTOTUNE=0 keeps the defaults (deterministic tests).
import { rt } from '../graph/runtime.js';
import { platform } from '../platform/platform.js';
import type { Reduction } from '../graph/kernel.js';

/** Part of the cache file's name. Bump it when kernels or candidate sets change: a cached choice is only as good
 * as the candidates (and kernels) it was timed against. */
const CACHE_VERSION = 7;

/** Trials per candidate; the median decides. */
const TRIAL_REPS = 3;

type Choices = Record<string, unknown>;
type CacheFile = Record<string, Choices>;

let cache: { path: string; file: CacheFile; adapter: Choices } | null = null;
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
    cache = { path, file, adapter: file[name] };
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

/**
 * The variant for `key` (op and shape class): the cached choice, else `fallback` — and, the first time the key is
 * seen with autotuning on, `trial(candidate)` is recorded for each candidate under timestamp queries; the fastest
 * becomes the choice once their times arrive (after the current step's submit). `trial` must write only to scratch
 * buffers.
 */
export function tuned<C>(key: string, candidates: C[], fallback: C, trial: (c: C) => void): C {
  // Off means the defaults, not the cache's choices: tests must not depend on what this machine tuned before.
  if (!autotuneEnabled()) return fallback;
  const chosen = choices();
  const id = (c: C) => JSON.stringify(c);
  if (key in chosen) {
    const hit = candidates.find((c) => id(c) === id(chosen[key] as C));
    if (hit) return hit;
  }
  const r = rt();
  if (!r.canTime || candidates.length < 2 || inFlight.has(key)) return fallback;
  inFlight.add(key);
  const times: number[][] = candidates.map(() => []);
  let left = candidates.length * TRIAL_REPS;
  for (let rep = 0; rep < TRIAL_REPS; rep++) {
    candidates.forEach((c, i) => {
      r.timed(() => trial(c), (ms) => {
        times[i].push(ms);
        if (--left > 0) return;
        const median = (t: number[]) => [...t].sort((a, b) => a - b)[t.length >> 1];
        let best = 0;
        times.forEach((t, k) => {
          if (median(t) < median(times[best])) best = k;
        });
        chosen[key] = candidates[best];
        // COMI_AUTOTUNE_LOG=1: each trial's medians (bench/device.sh reads where a GPU's time goes from them).
        if (platform().env('COMI_AUTOTUNE_LOG') === '1') {
          console.log(`autotune ${key}: ${candidates.map((c, k) => `${id(c)} ${median(times[k]).toFixed(3)} ms`).join(' | ')} → ${id(candidates[best])}`);
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
