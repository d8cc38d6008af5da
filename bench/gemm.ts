// GEMM ceiling probe: the best of dedicated GEMM shaders (register-tiled shaders/gemm.wgsl over a grid of tile
// shapes, and the workgroup-memory tiled shaders/gemm_tiled.wgsl) at 1024³ on CPU adapters, 4096³ on GPUs (1024³
// is over in well under a millisecond there). The kernel suite reports every kernel as a fraction of it.
//   node dist/bench/gemm.js [--gemm-size N]
import { pathToFileURL } from 'node:url';
import { rt } from '../src/graph/runtime.js';
import { defineKernel } from '../src/graph/kernel.js';
import { Tensor } from '../src/graph/tensor.js';
import { cpuLikeAdapter } from '../src/kernels/autotune.js';
import { benchGpu, randomTensor, timeCase, saveSection, gflops, fmt, flag } from './harness.js';

const GEMM = defineKernel({
  shader: 'gemm',
  params: { M: 'u32', N: 'u32', K: 'u32' },
  bindings: { a: 'read', b: { access: 'read', type: 'array<vec4f>' }, c: { access: 'read_write', type: 'array<vec4f>' } },
  consts: { TM: 'u32', V: 'u32', WG: 'u32' },
  entry: ['wid', 'lid'],
  workgroup: 'WG',
});
const GEMM_TILED = defineKernel({
  shader: 'gemm_tiled',
  params: { M: 'u32', N: 'u32', K: 'u32' },
  bindings: { a: { access: 'read', type: 'array<vec4f>' }, b: { access: 'read', type: 'array<vec4f>' }, c: { access: 'read_write', type: 'array<vec4f>' } },
  consts: { RM: 'u32', RN: 'u32' },
  includes: ['workgroup_tile'],
  entry: ['lid3', 'wid'],
  workgroup: [16, 16],
});

interface Variant { name: string; dispatch: (m: number, n: number, k: number, a: Tensor, b: Tensor, c: Tensor) => void }

function registerVariant(tm: number, v: number, wg: number): Variant {
  return {
    name: `registers ${tm}×${4 * v} wg ${wg}`,
    dispatch: (m, n, k, a, b, c) => {
      rt().dispatch(GEMM, { a: a.binding, b: b.binding, c: c.binding }, { M: m, N: n, K: k }, {
        consts: { TM: tm, V: v, WG: wg },
        groups: [Math.ceil(n / 4 / v / wg), Math.ceil(m / tm), 1],
      });
    },
  };
}

/** RM×RN outputs per invocation, a 16·RM × 16·RN block per workgroup. */
function tiledVariant(rm: number, rn: number): Variant {
  return {
    name: `workgroup-memory ${16 * rm}×${16 * rn}`,
    dispatch: (m, n, k, a, b, c) => {
      rt().dispatch(GEMM_TILED, { a: a.binding, b: b.binding, c: c.binding }, { M: m, N: n, K: k }, {
        consts: { RM: rm, RN: rn },
        groups: [Math.ceil(n / 16 / rn), Math.ceil(m / 16 / rm), 1],
      });
    },
  };
}

export const GEMM_VARIANTS: Variant[] = [
  registerVariant(8, 2, 8), registerVariant(12, 2, 8), registerVariant(16, 2, 8), registerVariant(16, 1, 8),
  registerVariant(8, 4, 8), registerVariant(12, 2, 64), registerVariant(16, 2, 64), tiledVariant(4, 4), tiledVariant(8, 4), tiledVariant(8, 8),
];

export interface CeilingResult { gflops: number; best: string; size: number; rows: { variant: string; ms: number; gflops: number; source: string }[] }

/** Checks a few outputs against a float64 product (a variant that computes garbage must not set the ceiling). */
async function check(size: number, a: Tensor, b: Tensor, c: Tensor, name: string): Promise<void> {
  const [av, bv, cv] = [await a.data(), await b.data(), await c.data()];
  for (const [i, j] of [[0, 0], [size - 1, size - 1], [size >> 1, 7], [3, size - 5]]) {
    let s = 0;
    for (let k = 0; k < size; k++) s += av[i * size + k] * bv[k * size + j];
    if (Math.abs(cv[i * size + j] - s) > 1e-3 * Math.max(1, Math.abs(s))) throw new Error(`gemm ${name}: C[${i},${j}] = ${cv[i * size + j]}, expected ${s}`);
  }
}

export async function measureCeiling(size = Number(flag('gemm-size', cpuLikeAdapter() ? '1024' : '4096'))): Promise<CeilingResult> {
  const a = randomTensor([size, size], 1);
  const b = randomTensor([size, size], 2);
  const flop = 2 * size ** 3;
  const rows: CeilingResult['rows'] = [];
  for (const v of GEMM_VARIANTS) {
    const c = Tensor.empty([size, size]).keep();
    v.dispatch(size, size, size, a, b, c);
    await check(size, a, b, c, v.name);
    const t = await timeCase(`gemm ${size}³ ${v.name}`, () => v.dispatch(size, size, size, a, b, c), 3, 1);
    rows.push({ variant: v.name, ms: t.ms, gflops: gflops(flop, t.ms), source: t.source });
    console.log(`  gemm ${size}³ ${v.name}: ${fmt(t.ms)} ms, ${fmt(gflops(flop, t.ms), 2)} GFLOP/s (${t.source})`);
    c.dispose();
  }
  a.dispose();
  b.dispose();
  const best = rows.reduce((x, y) => (y.gflops > x.gflops ? y : x));
  return { gflops: best.gflops, best: best.variant, size, rows };
}

async function main(): Promise<void> {
  const r = await benchGpu();
  const res = await measureCeiling();
  const size = res.size;
  saveSection('gemm', {
    title: `GEMM ceiling (${size}³)`,
    notes: [`Ceiling: **${fmt(res.gflops, 2)} GFLOP/s** (${res.best}). Median per call, ${res.rows[0].source === 'timestamps' ? 'GPU time from timestamp queries' : 'wall time'}.`],
    table: { head: ['variant', 'ms', 'GFLOP/s', 'of ceiling'], rows: res.rows.map((x) => [x.variant, fmt(x.ms), fmt(x.gflops, 2), `${fmt((100 * x.gflops) / res.gflops, 0)} %`]) },
    data: { ...res, adapter: r.gpu.adapterName },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
