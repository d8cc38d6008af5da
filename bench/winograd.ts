// Winograd against the direct kernels (issue 12): the three GEMMs of a 3×3 stride-1 reflect-padded convolution (the
// ResNet blocks') — forward, input gradient, weight gradient — each forced to register tiles 16×8 and to Winograd
// F(2×2, 3×3) with 16×8 GEMM tiles (the forward also F(4×4, 3×3)), alternated in one process, medians of the rounds'
// medians; also each one's largest difference from the registers, relative to the largest value. GFLOP/s are
// nominal (the direct convolution's count), so Winograd's can pass the GEMM ceiling.
//   node dist/bench/winograd.js [--maps 64:16,128:32,32:64] [--rounds 5]
import { pathToFileURL } from 'node:url';
import { Tensor } from '../src/graph/tensor.js';
import { directGather, inputGrad, weightGrad, setConvTiling, type ConvGeometry, type ConvTiling } from '../src/kernels/conv_gemm.js';
import { benchGpu, randomTensor, timeCase, saveSection, median, gflops, fmt, flag } from './harness.js';

const REGISTERS: ConvTiling = { tm: 16, tn: 8 };
const WINOGRAD: ConvTiling = { tm: 16, tn: 8, strategy: 'winograd' };
const WINOGRAD4: ConvTiling = { ...WINOGRAD, m: 4 };
const GEMMS = ['forward', 'input grad', 'weight grad'] as const;

/** winograd4: F(4×4), forwards only. */
interface Row { channels: number; map: number; gemm: string; directMs: number; winogradMs: number; relDiff: number; winograd4Ms?: number; relDiff4?: number; flop: number }

async function measure(channels: number, map: number, rounds: number): Promise<Row[]> {
  const g: ConvGeometry = { N: 1, Cin: channels, H: map, W: map, Cout: channels, OH: map, OW: map, KH: 3, KW: 3, stride: 1, pad: 1, reflect: true };
  const x = randomTensor([1, channels, map, map], 1);
  const w = randomTensor([channels, channels, 3, 3], 2);
  const dy = randomTensor([1, channels, map, map], 3);
  const run: Record<(typeof GEMMS)[number], () => Tensor> = {
    forward: () => { const y = Tensor.empty(dy.shape); directGather(g, x.binding, w.binding, null, y); return y; },
    'input grad': () => { const dx = Tensor.empty(x.shape); inputGrad(g, dy.binding, w.binding, dx); return dx; },
    'weight grad': () => weightGrad(g, x.binding, dy.binding),
  };
  const rows: Row[] = [];
  try {
    for (const gemm of GEMMS) {
      const strategies = gemm === 'forward' ? [REGISTERS, WINOGRAD, WINOGRAD4] : [REGISTERS, WINOGRAD];
      const outputs: Float32Array[] = [];
      const times: number[][] = strategies.map(() => []);
      for (const [i, tiling] of strategies.entries()) {
        setConvTiling(tiling);
        const out = run[gemm]();
        outputs[i] = await out.data();
        out.dispose();
      }
      for (let r = 0; r < rounds; r++) {
        for (const [i, tiling] of strategies.entries()) {
          setConvTiling(tiling);
          times[i].push((await timeCase(`${channels} ch ${map}² ${gemm} ${tiling.strategy ?? 'registers'}${tiling.m ?? ''}`, run[gemm], 5, 0.5)).ms);
        }
      }
      const scale = outputs[0].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const relDiff = (k: number) => outputs[0].reduce((m, v, j) => Math.max(m, Math.abs(v - outputs[k][j])), 0) / scale;
      rows.push({
        channels, map, gemm, directMs: median(times[0]), winogradMs: median(times[1]), relDiff: relDiff(1),
        ...(times[2] ? { winograd4Ms: median(times[2]), relDiff4: relDiff(2) } : {}), flop: 2 * map * map * channels * channels * 9,
      });
    }
  } finally {
    setConvTiling(null);
    for (const t of [x, w, dy]) t.dispose();
  }
  return rows;
}

async function main(): Promise<void> {
  await benchGpu();
  const maps = flag('maps', '64:16,128:32,32:64').split(',').map((c) => c.split(':').map(Number));
  const rounds = Number(flag('rounds', '5'));
  const rows: Row[] = [];
  for (const [channels, map] of maps) {
    for (const row of await measure(channels, map, rounds)) {
      rows.push(row);
      const f4 = row.winograd4Ms === undefined ? '' : `, F(4×4) ${fmt(row.winograd4Ms, 2)} ms (${fmt(row.directMs / row.winograd4Ms, 2)}×, difference ${row.relDiff4!.toExponential(1)})`;
      console.log(`  ${channels} ch ${map}² ${row.gemm}: registers ${fmt(row.directMs, 2)} ms, Winograd ${fmt(row.winogradMs, 2)} ms (${fmt(row.directMs / row.winogradMs, 2)}×, difference ${row.relDiff.toExponential(1)} of the largest value)${f4}`);
    }
  }
  saveSection('winograd', {
    title: 'Winograd F(2×2, 3×3) and, forwards, F(4×4, 3×3) against register tiles: 3×3 stride-1 reflect-padded convolution, batch 1',
    notes: [`All forced with 16×8 tiles, alternated, ${rounds} rounds; medians of the rounds' medians (timestamps where the adapter has them). GFLOP/s nominal (the direct count). Difference: max |Winograd − registers| / max |registers|.`],
    table: {
      head: ['channels', 'map', 'GEMM', 'registers ms', 'F(2×2) ms', 'speed-up', 'F(4×4) ms', 'speed-up', 'registers GFLOP/s', 'best Winograd GFLOP/s (nominal)', 'difference F(2×2)', 'difference F(4×4)'],
      rows: rows.map((r) => [
        r.channels, `${r.map}²`, r.gemm, fmt(r.directMs, 2), fmt(r.winogradMs, 2), `${fmt(r.directMs / r.winogradMs, 2)}×`,
        r.winograd4Ms === undefined ? '–' : fmt(r.winograd4Ms, 2), r.winograd4Ms === undefined ? '–' : `${fmt(r.directMs / r.winograd4Ms, 2)}×`,
        fmt(gflops(r.flop, r.directMs)), fmt(gflops(r.flop, Math.min(r.winogradMs, r.winograd4Ms ?? Infinity))),
        r.relDiff.toExponential(1), r.relDiff4 === undefined ? '–' : r.relDiff4.toExponential(1),
      ]),
    },
    data: { rounds, rows },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
