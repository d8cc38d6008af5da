// Kernel suite: forward and backward of every kernel at the layer shapes of the 256² ResnetGenerator (ngf 64, 9
// blocks), the 70×70 PatchGAN (ndf 64) and VGG19 up to relu3_3, batch 1, 3 channels, plus the issue's two
// reference convolutions (fixed shapes, whatever --size is); convolutions also as GFLOP/s
// and as a fraction of the adapter's GEMM ceiling (bench/gemm.ts), measured in the same process.
// With --tiling (a ConvTiling as JSON, e.g. '{"strategy":"tiles","tm":8,"tn":8,"splitK":"auto"}') every convolution
// runs that variant instead of the tuned one (a GPU-only kernel timed where the autotuner did not pick it); those rows
// go to a section of their own per tiling ('kernels-forced-tiles-8x8-split', …).
//   node dist/bench/kernels.js [--only ref,gen,disc,vgg,other] [--size 256] [--tiling JSON]
import { pathToFileURL } from 'node:url';
import { Tensor } from '../src/graph/tensor.js';
import { backward } from '../src/autograd/tape.js';
import { directGather, phaseGather, inputGrad, inputGradKind, weightGrad, biasGrad, lastConvVariant, setConvTiling, type ConvGeometry, type ConvTiling } from '../src/kernels/conv_gemm.js';
import { instanceNorm } from '../src/kernels/instance_norm.js';
import { reflectionPad2d } from '../src/kernels/pad.js';
import { relu, tanh, leakyRelu } from '../src/kernels/unary.js';
import { add } from '../src/kernels/binary.js';
import { maxPool2x2 } from '../src/kernels/max_pool.js';
import { mseLoss, l1Loss } from '../src/kernels/losses.js';
import { adamUpdate } from '../src/kernels/adam.js';
import { benchGpu, randomTensor, timeCase, saveSection, loadSection, gflops, fmt, flag } from './harness.js';
import { measureCeiling } from './gemm.js';

interface ConvLayer { net: string; name: string; transposed: boolean; g: ConvGeometry }

function direct(N: number, Cin: number, H: number, Cout: number, K: number, stride: number, pad: number): ConvGeometry {
  const O = Math.floor((H + 2 * pad - K) / stride) + 1;
  return { N, Cin, H, W: H, Cout, OH: O, OW: O, KH: K, KW: K, stride, pad };
}

/** Layers of the three networks at input size s (reflection-padded inputs are given with their padding). */
export function convLayers(s: number, ngf = 64, ndf = 64, c = 3): ConvLayer[] {
  const L: ConvLayer[] = [];
  // The issue's reference shapes: conv 1×64×128², 3×3, 64→64 (1.208 GFLOP) and the 256→128 transposed conv, 64²→128².
  L.push({ net: 'reference', name: 'conv 3×3 p1', transposed: false, g: direct(1, 64, 128, 64, 3, 1, 1) });
  L.push({ net: 'reference', name: 'convT 3×3 s2', transposed: true, g: { N: 1, Cin: 256, H: 64, W: 64, Cout: 128, OH: 128, OW: 128, KH: 3, KW: 3, stride: 2, pad: 1 } });
  const gen = (name: string, g: ConvGeometry, transposed = false) => L.push({ net: 'generator', name, transposed, g });
  gen('stem 7×7', direct(1, c, s + 6, ngf, 7, 1, 0));
  gen('down1 3×3 s2', direct(1, ngf, s, 2 * ngf, 3, 2, 1));
  gen('down2 3×3 s2', direct(1, 2 * ngf, s / 2, 4 * ngf, 3, 2, 1));
  gen('res 3×3 (×18)', direct(1, 4 * ngf, s / 4 + 2, 4 * ngf, 3, 1, 0));
  // Transposed: geometry of the op itself (small side → large side).
  gen('up1 convT 3×3 s2', { N: 1, Cin: 4 * ngf, H: s / 4, W: s / 4, Cout: 2 * ngf, OH: s / 2, OW: s / 2, KH: 3, KW: 3, stride: 2, pad: 1 }, true);
  gen('up2 convT 3×3 s2', { N: 1, Cin: 2 * ngf, H: s / 2, W: s / 2, Cout: ngf, OH: s, OW: s, KH: 3, KW: 3, stride: 2, pad: 1 }, true);
  gen('head 7×7', direct(1, ngf, s + 6, c, 7, 1, 0));
  const disc = (name: string, g: ConvGeometry) => L.push({ net: 'discriminator', name, transposed: false, g });
  disc('conv1 4×4 s2', direct(1, c, s, ndf, 4, 2, 1));
  disc('conv2 4×4 s2', direct(1, ndf, s / 2, 2 * ndf, 4, 2, 1));
  disc('conv3 4×4 s2', direct(1, 2 * ndf, s / 4, 4 * ndf, 4, 2, 1));
  disc('conv4 4×4 s1', direct(1, 4 * ndf, s / 8, 8 * ndf, 4, 1, 1));
  disc('out 4×4 s1', direct(1, 8 * ndf, s / 8 - 1, 1, 4, 1, 1));
  const vgg = (name: string, g: ConvGeometry) => L.push({ net: 'vgg19', name, transposed: false, g });
  vgg('conv1_1', direct(1, 3, s, 64, 3, 1, 1));
  vgg('conv1_2', direct(1, 64, s, 64, 3, 1, 1));
  vgg('conv2_1', direct(1, 64, s / 2, 128, 3, 1, 1));
  vgg('conv2_2', direct(1, 128, s / 2, 128, 3, 1, 1));
  vgg('conv3_1', direct(1, 128, s / 4, 256, 3, 1, 1));
  vgg('conv3_2/3_3', direct(1, 256, s / 4, 256, 3, 1, 1));
  return L;
}

export interface KernelRow { kind: 'conv' | 'op'; net: string; layer: string; op: string; ms: number; gflops: number | null; ofCeiling: number | null; source: string }

async function convRows(layer: ConvLayer, ceiling: number): Promise<KernelRow[]> {
  const { g, transposed } = layer;
  // The direct geometry: large side → small side for a transposed conv.
  const d: ConvGeometry = transposed ? { ...g, Cin: g.Cout, H: g.OH, W: g.OW, Cout: g.Cin, OH: g.H, OW: g.W } : g;
  const x = randomTensor([d.N, d.Cin, d.H, d.W], 1);
  const w = randomTensor(transposed ? [g.Cin, g.Cout, g.KH, g.KW] : [d.Cout, d.Cin, d.KH, d.KW], 2);
  const bias = randomTensor([transposed ? g.Cout : d.Cout], 3);
  const dyDirect = randomTensor([d.N, d.Cout, d.OH, d.OW], 4);
  const flop = 2 * d.N * d.Cout * d.OH * d.OW * d.Cin * d.KH * d.KW;
  // Each row names the pass and the GEMM that computes it (src/kernels/conv_gemm.ts).
  const ops: [string, () => Tensor][] = transposed
    ? [
        // forward: small x (= dyDirect's shape) → large y (= x's shape)
        ['forward · phaseGather', () => { const y = Tensor.empty(x.shape); phaseGather(g, dyDirect.binding, w.binding, bias.binding, y); return y; }],
        ['input grad · directGather', () => { const y = Tensor.empty(dyDirect.shape); directGather(d, x.binding, w.binding, null, y); return y; }],
        ['weight grad · weightGrad', () => weightGrad(d, x.binding, dyDirect.binding)],
        ['bias grad · conv_bias_grad', () => biasGrad(x)],
      ]
    : [
        ['forward · directGather', () => { const y = Tensor.empty(dyDirect.shape); directGather(d, x.binding, w.binding, bias.binding, y); return y; }],
        [`input grad · ${inputGradKind(d)}`, () => { const y = Tensor.empty(x.shape); inputGrad(d, dyDirect.binding, w.binding, y); return y; }],
        ['weight grad · weightGrad', () => weightGrad(d, x.binding, dyDirect.binding)],
        ['bias grad · conv_bias_grad', () => biasGrad(dyDirect)],
      ];
  const rows: KernelRow[] = [];
  for (const [op, run] of ops) {
    const t = await timeCase(`${layer.net} ${layer.name} ${op}`, run, 3, 1);
    const isGemm = !op.startsWith('bias grad');
    const gf = isGemm ? gflops(flop, t.ms) : null;
    // The variant the timed calls used (the autotuned choice once its trials are in, which timeCase's warm-up waits for).
    const named = isGemm ? `${op} (${lastConvVariant()})` : op;
    rows.push({ kind: 'conv', net: layer.net, layer: `${layer.name} ${d.Cin}→${d.Cout} ${d.OH}²`, op: named, ms: t.ms, gflops: gf, ofCeiling: gf === null ? null : gf / ceiling, source: t.source });
    console.log(`  ${layer.net} ${layer.name} ${named}: ${fmt(t.ms)} ms${gf === null ? '' : `, ${fmt(gf, 2)} GFLOP/s, ${fmt((100 * gf) / ceiling, 0)} % of ceiling`}`);
  }
  for (const t of [x, w, bias, dyDirect]) t.dispose();
  return rows;
}

/** A pointwise/normalisation kernel: forward alone, and forward + its backward (gradient `dy` given). */
async function opRows(net: string, layer: string, shape: number[], f: (x: Tensor, extra: Tensor) => Tensor): Promise<KernelRow[]> {
  const x = randomTensor(shape, 5);
  const extra = randomTensor(shape, 6);
  x.requiresGrad = true;
  const rows: KernelRow[] = [];
  const fwd = await timeCase(`${layer} forward`, () => f(x, extra), 3, 1);
  let outShape: readonly number[] = [];
  const probe = f(x, extra);
  outShape = probe.shape;
  probe.dispose();
  const dy = randomTensor([...outShape], 7);
  const both = await timeCase(`${layer} forward+backward`, () => {
    const y = f(x, extra);
    backward(y, dy);
    const g = x.grad;
    x.grad = null;
    return [y, ...(g ? [g] : [])];
  }, 3, 1);
  rows.push({ kind: 'op', net, layer, op: 'forward', ms: fwd.ms, gflops: null, ofCeiling: null, source: fwd.source });
  rows.push({ kind: 'op', net, layer, op: 'forward+backward', ms: both.ms, gflops: null, ofCeiling: null, source: both.source });
  console.log(`  ${layer}: forward ${fmt(fwd.ms, 2)} ms, forward+backward ${fmt(both.ms, 2)} ms`);
  for (const t of [x, extra, dy]) t.dispose();
  return rows;
}

async function otherRows(s: number, ngf = 64): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  const c = 4 * ngf;
  const q = s / 4;
  rows.push(...await opRows('generator', `instance norm + ReLU [1, ${ngf}, ${s}, ${s}]`, [1, ngf, s, s], (x) => instanceNorm(x, { activation: 'relu' })));
  rows.push(...await opRows('generator', `instance norm + residual [1, ${c}, ${q}, ${q}]`, [1, c, q, q], (x, r) => instanceNorm(x, { residual: r })));
  rows.push(...await opRows('generator', `reflection pad 3 [1, ${ngf}, ${s}, ${s}]`, [1, ngf, s, s], (x) => reflectionPad2d(x, 3)));
  rows.push(...await opRows('generator', `tanh [1, 3, ${s}, ${s}]`, [1, 3, s, s], (x) => tanh(x)));
  rows.push(...await opRows('generator', `add [1, ${c}, ${q}, ${q}]`, [1, c, q, q], (x, r) => add(x, r)));
  rows.push(...await opRows('discriminator', `instance norm + leaky ReLU [1, 128, ${s / 4}, ${s / 4}]`, [1, 128, s / 4, s / 4], (x) => instanceNorm(x, { activation: 'leakyRelu', slope: 0.2 })));
  rows.push(...await opRows('discriminator', `leaky ReLU [1, 64, ${s / 2}, ${s / 2}]`, [1, 64, s / 2, s / 2], (x) => leakyRelu(x, 0.2)));
  rows.push(...await opRows('vgg19', `ReLU [1, 64, ${s}, ${s}]`, [1, 64, s, s], (x) => relu(x)));
  rows.push(...await opRows('vgg19', `max pool 2×2 [1, 64, ${s}, ${s}]`, [1, 64, s, s], (x) => maxPool2x2(x)));
  rows.push(...await opRows('losses', `MSE [1, 256, ${q}, ${q}]`, [1, 256, q, q], (x, r) => mseLoss(x, r)));
  rows.push(...await opRows('losses', `L1 [1, 3, ${s}, ${s}]`, [1, 3, s, s], (x, r) => l1Loss(x, r)));
  // Adam on the largest generator parameter (a 256→256 3×3 weight).
  const shape = [c, c, 3, 3];
  const [p, g, m, v] = [randomTensor(shape, 8), randomTensor(shape, 9), Tensor.zeros(shape).keep(), Tensor.zeros(shape).keep()];
  const t = await timeCase('adam', () => adamUpdate(p, g, m, v, 0, p.size, { lr: 1e-4, beta1: 0.5, beta2: 0.99, eps: 1e-8, step: 1 }), 3, 1);
  rows.push({ kind: 'op', net: 'optimiser', layer: `Adam step [${shape.join(', ')}]`, op: 'update', ms: t.ms, gflops: null, ofCeiling: null, source: t.source });
  console.log(`  adam: ${fmt(t.ms, 2)} ms`);
  for (const x of [p, g, m, v]) x.dispose();
  return rows;
}

async function main(): Promise<void> {
  const r = await benchGpu();
  const s = Number(flag('size', '256'));
  const only = flag('only', 'ref,gen,disc,vgg,other').split(',');
  const tiling = flag('tiling', '');
  const forced = tiling ? (JSON.parse(tiling) as ConvTiling) : null;
  setConvTiling(forced);
  const ceiling = await measureCeiling();
  console.log(`GEMM ceiling ${fmt(ceiling.gflops, 2)} GFLOP/s (${ceiling.best})`);
  const nets: Record<string, string> = { ref: 'reference', gen: 'generator', disc: 'discriminator', vgg: 'vgg19' };
  const rows: KernelRow[] = [];
  for (const layer of convLayers(s)) {
    if (only.some((o) => nets[o] === layer.net)) rows.push(...await convRows(layer, ceiling.gflops));
  }
  if (only.includes('other')) rows.push(...await otherRows(s));
  // Rows of the groups not rerun stay (same size only): convolutions in the usual group order, then the other kernels.
  const groups = ['reference', 'generator', 'discriminator', 'vgg19'];
  const rerun = new Set(only.map((o) => nets[o] ?? o));
  const isOp = (x: KernelRow) => (x.kind ? x.kind === 'op' : x.gflops === null && x.op !== 'bias grad');
  const section = forced ? `kernels-forced-${forced.strategy ?? 'registers'}-${forced.tm}x${forced.tn}${forced.splitK ? '-split' : ''}${forced.tiledGemm ? '-tiled-gemm' : ''}` : 'kernels';
  const previous = loadSection(section)?.data as { size: number; rows: KernelRow[] } | undefined;
  if (previous?.size === s) rows.push(...previous.rows.filter((x) => (isOp(x) ? !rerun.has('other') : !rerun.has(x.net))));
  const rank = (x: KernelRow) => (isOp(x) ? groups.length : groups.indexOf(x.net));
  rows.sort((a, b) => rank(a) - rank(b));
  const src = rows[0]?.source === 'timestamps' ? 'GPU time from timestamp queries' : 'wall time incl. submit and wait';
  saveSection(section, {
    title: `Kernels at the ${s}² layer shapes (batch 1, 3 channels)${tiling ? `, convolutions forced to ${tiling}` : ''}`,
    notes: [
      `Median per call (${src}), benny-driven samples after warm-up; ${tiling ? 'forced' : 'autotuned'} variants (src/kernels/autotune.ts).`,
      `GEMM ceiling measured in the same process: ${fmt(ceiling.gflops, 2)} GFLOP/s (${ceiling.best}, ${ceiling.size}³).`,
      'Convolution FLOPs = 2·N·Cout·OH·OW·Cin·KH·KW for each of forward, input grad and weight grad.',
    ],
    table: {
      head: ['net', 'layer', 'op', 'ms', 'GFLOP/s', 'of ceiling'],
      rows: rows.map((x) => [x.net, x.layer, x.op, fmt(x.ms, 2), x.gflops === null ? '' : fmt(x.gflops, 2), x.ofCeiling === null ? '' : `${fmt(100 * x.ofCeiling, 0)} %`]),
    },
    data: { size: s, ceiling, rows },
  });
  void r;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
