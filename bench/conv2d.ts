// Convolution benchmarks (benny): forward, input- and weight-gradient of conv2d at 1×64×128×128, 3×3, 64→64, the
// transposed conv of the 256² generator (256→128, 64² → 128²), and a 1×1 conv as the adapter's GEMM ceiling probe,
// each for several register tilings in one process. Wall time per call including one submit + wait; medians.
//   npm run bench            (writes bench/results/<adapter>.json and .md)
import b from 'benny';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initGpu } from '../src/graph/runtime.js';
import { Tensor } from '../src/graph/tensor.js';
import { hashUniform } from '../src/graph/random.js';
import { gatherConv, scatterConv, weightGrad, setConvTiling, type ConvGeometry, type ConvTiling } from '../src/kernels/conv_gemm.js';

const r = await initGpu();
const TILINGS: ConvTiling[] = [{ tm: 4, tn: 8 }, { tm: 8, tn: 8 }, { tm: 8, tn: 16 }, { tm: 16, tn: 8 }];

function geometry(N: number, Cin: number, H: number, W: number, Cout: number, K: number, stride: number, pad: number): ConvGeometry {
  return { N, Cin, H, W, Cout, KH: K, KW: K, stride, pad, OH: Math.floor((H + 2 * pad - K) / stride) + 1, OW: Math.floor((W + 2 * pad - K) / stride) + 1 };
}

const rand = (shape: number[], seed: number) => Tensor.fromArray(hashUniform(shape.reduce((a, c) => a * c, 1), seed), shape).keep();

interface Case { name: string; flop: number; run: () => Tensor }

const conv = geometry(1, 64, 128, 128, 64, 3, 1, 1);
const cx = rand([1, 64, 128, 128], 1);
const cw = rand([64, 64, 3, 3], 2);
const cb = rand([64], 3);
const cdy = rand([1, 64, 128, 128], 4);
const convFlop = 2 * conv.N * conv.Cout * conv.OH * conv.OW * conv.Cin * 9;

// Transposed conv of the generator's first up layer at 256²: x [1,256,64,64] → [1,128,128,128].
const up: ConvGeometry = { N: 1, Cin: 256, H: 64, W: 64, Cout: 128, OH: 128, OW: 128, KH: 3, KW: 3, stride: 2, pad: 1 };
const ux = rand([1, 256, 64, 64], 5);
const uw = rand([256, 128, 3, 3], 6);
const upFlop = 2 * up.N * up.Cin * up.H * up.W * up.Cout * 9; // every input pixel meets every tap once

const gemm = geometry(1, 1024, 32, 32, 1024, 1, 1, 0);
const gx = rand([1, 1024, 32, 32], 7);
const gw = rand([1024, 1024, 1, 1], 8);
const gemmFlop = 2 * 1024 * 1024 * 1024;

const out = (shape: number[]) => Tensor.empty(shape);
const cases: Case[] = [
  { name: 'gemm 1024³ (1×1 conv)', flop: gemmFlop, run: () => { const y = out([1, 1024, 32, 32]); gatherConv(gemm, gx.buffer, gw.buffer, null, y); return y; } },
  { name: 'conv2d forward 1×64×128² 3×3 64→64', flop: convFlop, run: () => { const y = out([1, 64, 128, 128]); gatherConv(conv, cx.buffer, cw.buffer, cb.buffer, y); return y; } },
  { name: 'conv2d input-grad', flop: convFlop, run: () => { const y = out([1, 64, 128, 128]); scatterConv({ ...conv, Cin: 64, Cout: 64 }, cdy.buffer, cw.buffer, null, y); return y; } },
  { name: 'conv2d weight-grad', flop: convFlop, run: () => weightGrad(conv, cx.buffer, cdy.buffer) },
  { name: 'convTranspose2d 256→128 64²→128²', flop: upFlop, run: () => { const y = out([1, 128, 128, 128]); scatterConv(up, ux.buffer, uw.buffer, null, y); return y; } },
];

interface Row { case: string; tiling: string; medianMs: number; gflops: number }
const rows: Row[] = [];

for (const c of cases) {
  for (const t of TILINGS) {
    const label = `${t.tm}×${t.tn}`;
    await b.suite(
      `${c.name} [${label}]`,
      b.add(label, async () => {
        setConvTiling(t);
        const y = c.run();
        await r.sync();
        y.dispose();
      }),
      b.configure({ cases: { minSamples: 5, maxTime: 2 } }),
      b.complete((summary) => {
        const median = summary.results[0].details.median * 1000;
        const gflops = c.flop / (median / 1000) / 1e9;
        rows.push({ case: c.name, tiling: label, medianMs: median, gflops });
        console.log(`  ${c.name} [${label}]: median ${median.toFixed(1)} ms, ${gflops.toFixed(2)} GFLOP/s`);
      }),
    );
  }
}

const ceiling = Math.max(...rows.filter((row) => row.case.startsWith('gemm')).map((row) => row.gflops));
const lines = [
  `# Convolution benchmarks on ${r.gpu.adapterName}`,
  '',
  `GEMM ceiling (best 1×1 conv): ${ceiling.toFixed(2)} GFLOP/s. Wall time per call incl. submit + wait, median.`,
  '',
  '| case | tiling | median ms | GFLOP/s | of ceiling |',
  '|---|---|---:|---:|---:|',
  ...rows.map((row) => `| ${row.case} | ${row.tiling} | ${row.medianMs.toFixed(1)} | ${row.gflops.toFixed(2)} | ${((100 * row.gflops) / ceiling).toFixed(0)} % |`),
];
const dir = join(import.meta.dirname, '..', '..', 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = r.gpu.adapterName.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
writeFileSync(join(dir, `${file}.json`), JSON.stringify({ adapter: r.gpu.adapterName, date: new Date().toISOString(), ceilingGflops: ceiling, rows }, null, 2) + '\n');
writeFileSync(join(dir, `${file}.md`), lines.join('\n') + '\n');
console.log(lines.join('\n'));
process.exit(0);
