// Per-adapter kernel variants. Every kernel with variants (tile shapes, register tiles vs workgroup-memory tiles,
// reduction width) starts from a default chosen by the adapter's kind; on first use of a shape class a short trial
// times each candidate with timestamp queries inside the work being recorded (no extra submit, no wait), and the
// fastest is used from then on and cached per adapter in $COMI_CACHE/autotune-v2.json (default
// ~/.cache/comi/autotune-v2.json). Candidates compute the same sums in the same order per output or differ only by
// fp32 reassociation. COMI_AUTOTUNE=0 keeps the defaults (deterministic tests).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { comiCacheDir } from '../io/cache_dir.js';
import { dirname, join } from 'node:path';
import { rt } from '../graph/runtime.js';
import { writeFileAtomic } from '../io/atomic.js';

/** Part of the cache file's name. Bump it when kernels or candidate sets change: a cached choice is only as good
 * as the candidates (and kernels) it was timed against. */
const CACHE_VERSION = 2;

/** Trials per candidate; the median decides. */
const TRIAL_REPS = 3;

type Choices = Record<string, unknown>;
type CacheFile = Record<string, Choices>;

let cache: { path: string; file: CacheFile; adapter: Choices } | null = null;
const inFlight = new Set<string>();

export function autotuneEnabled(): boolean {
  return process.env.COMI_AUTOTUNE !== '0';
}

export function autotuneCachePath(): string {
  const root = comiCacheDir();
  return join(root, `autotune-v${CACHE_VERSION}.json`);
}

function choices(): Choices {
  const path = autotuneCachePath();
  if (cache?.path !== path) {
    let file: CacheFile = {};
    try {
      if (existsSync(path)) file = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
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
    mkdirSync(dirname(cache.path), { recursive: true });
    writeFileAtomic(cache.path, JSON.stringify(cache.file, null, 1) + '\n');
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
  const chosen = choices();
  const id = (c: C) => JSON.stringify(c);
  if (key in chosen) {
    const hit = candidates.find((c) => id(c) === id(chosen[key] as C));
    if (hit) return hit;
  }
  const r = rt();
  if (!autotuneEnabled() || !r.canTime || candidates.length < 2 || inFlight.has(key)) return fallback;
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
        inFlight.delete(key);
        save();
      });
    });
  }
  return fallback;
}

/** Forgets the cached choices of this adapter (benchmarks of the defaults). */
export function resetAutotune(): void {
  const chosen = choices();
  for (const k of Object.keys(chosen)) delete chosen[k];
  inFlight.clear();
}

/** Workgroup reduction used by the normalisation and bias-gradient shaders: the whole workgroup as one subgroup
 * (subgroupAdd, no barriers; best on CPU adapters) or a tree in workgroup memory. */
export interface ReductionVariant {
  wg: number;
  subgroup: boolean;
}

export function reductionVariant(): ReductionVariant {
  const r = rt();
  const minSize = (r.gpu.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number }).subgroupMinSize ?? 0;
  if (cpuLikeAdapter() && r.gpu.features.has('subgroups') && minSize >= 4) return { wg: minSize, subgroup: true };
  return { wg: 256, subgroup: false };
}

/** {{ENABLE}}, {{WG}} and the body of `fn workgroupSum(lid: u32, v: T) -> T` ({{SUM}}) for a reduction shader whose
 * workgroup-memory array is `partial: array<T, WG>`. */
export function reductionConsts(v: ReductionVariant = reductionVariant()): Record<string, string | number> {
  if (v.subgroup) return { ENABLE: 'enable subgroups;', WG: v.wg, SUM: '  return subgroupAdd(v);' };
  return {
    ENABLE: '',
    WG: v.wg,
    SUM: [
      '  partial[lid] = v;',
      '  workgroupBarrier();',
      '  for (var s = WG / 2u; s > 0u; s >>= 1u) {',
      '    if (lid < s) { partial[lid] += partial[lid + s]; }',
      '    workgroupBarrier();',
      '  }',
      '  let total = partial[0];',
      '  workgroupBarrier(); // everyone has read the total before partial is reused',
      '  return total;',
    ].join('\n'),
  };
}
