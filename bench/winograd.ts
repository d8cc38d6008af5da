// Winograd F(2×2, 3×3) against the direct kernels (issue 12): the three GEMMs of a 3×3 stride-1 reflect-padded
// convolution (the ResNet blocks') — forward, input gradient, weight gradient — each forced to register tiles 16×8
// and to Winograd with 16×8 GEMM tiles, alternated in one process, medians of the rounds' medians; also
// the largest difference between the two, relative to the largest value. GFLOP/s are nominal (the direct
// convolution's count), so Winograd's can pass the GEMM ceiling.
//   node dist/bench/winograd.js [--maps 64:16,128:32,32:64] [--rounds 5]
import { pathToFileURL } from 'node:url';
import { Tensor } from '../src/graph/tensor.js';
import { directGather, inputGrad, weightGrad, setConvTiling, type ConvGeometry, type ConvTiling } from '../src/kernels/conv_gemm.js';
import { benchGpu, randomTensor, timeCase, saveSection, median, gflops, fmt, flag } from './harness.js';

const STRATEGIES: [string, ConvTiling][] = [['registers 16×8', { tm: 16, tn: 8 }], ['winograd 16×8', { tm: 16, tn: 8, strategy: 'winograd' }]];
const GEMMS = ['forward', 'input grad', 'weight grad'] as const;

interface Row { channels: number; map: number; gemm: string; directMs: number; winogradMs: number; relDiff: number; flop: number }

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
      const outputs: Float32Array[] = [];
      const times: number[][] = STRATEGIES.map(() => []);
      for (const [i, [, tiling]] of STRATEGIES.entries()) {
        setConvTiling(tiling);
        const out = run[gemm]();
        outputs[i] = await out.data();
        out.dispose();
      }
      for (let r = 0; r < rounds; r++) {
        for (const [i, [name, tiling]] of STRATEGIES.entries()) {
          setConvTiling(tiling);
          times[i].push((await timeCase(`${channels} ch ${map}² ${gemm} ${name}`, run[gemm], 5, 0.5)).ms);
        }
      }
      const scale = outputs[0].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const diff = outputs[0].reduce((m, v, k) => Math.max(m, Math.abs(v - outputs[1][k])), 0);
      rows.push({ channels, map, gemm, directMs: median(times[0]), winogradMs: median(times[1]), relDiff: diff / scale, flop: 2 * map * map * channels * channels * 9 });
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
      console.log(`  ${channels} ch ${map}² ${row.gemm}: registers ${fmt(row.directMs, 2)} ms, Winograd ${fmt(row.winogradMs, 2)} ms (${fmt(row.directMs / row.winogradMs, 2)}×), difference ${row.relDiff.toExponential(1)} of the largest value`);
    }
  }
  saveSection('winograd', {
    title: 'Winograd F(2×2, 3×3) against register tiles: 3×3 stride-1 reflect-padded convolution, batch 1',
    notes: [`Both forced with 16×8 tiles, alternated, ${rounds} rounds; medians of the rounds' medians (timestamps where the adapter has them). GFLOP/s nominal (the direct count). Difference: max |Winograd − registers| / max |registers|.`],
    table: {
      head: ['channels', 'map', 'GEMM', 'registers ms', 'Winograd ms', 'speed-up', 'registers GFLOP/s', 'Winograd GFLOP/s (nominal)', 'difference'],
      rows: rows.map((r) => [r.channels, `${r.map}²`, r.gemm, fmt(r.directMs, 2), fmt(r.winogradMs, 2), `${fmt(r.directMs / r.winogradMs, 2)}×`, fmt(gflops(r.flop, r.directMs)), fmt(gflops(r.flop, r.winogradMs)), r.relDiff.toExponential(1)]),
    },
    data: { rounds, rows },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
