// What the reflection fold costs (issue 12): the input gradient of a 3×3 reflect-padded convolution (the ResNet
// blocks'), which folds the mirrored positions in, against the same convolution zero-padded and against its forward,
// at the ResNet-block maps of 64², 128² and 256² steps (constant FLOPs: channels halve as the map doubles).
//   node dist/bench/fold.js [--maps 256:16,128:32,64:64]
import { pathToFileURL } from 'node:url';
import { Tensor } from '../src/graph/tensor.js';
import { directGather, inputGrad, type ConvGeometry } from '../src/kernels/conv_gemm.js';
import { benchGpu, randomTensor, timeCase, saveSection, fmt, flag } from './harness.js';

interface FoldRow { channels: number; map: number; forwardMs: number; reflectMs: number; zeroMs: number }

async function measure(channels: number, map: number): Promise<FoldRow> {
  const g: ConvGeometry = { N: 1, Cin: channels, H: map, W: map, Cout: channels, OH: map, OW: map, KH: 3, KW: 3, stride: 1, pad: 1, reflect: true };
  const zero = { ...g, reflect: false };
  const x = randomTensor([1, channels, map, map], 1);
  const w = randomTensor([channels, channels, 3, 3], 2);
  const dy = randomTensor([1, channels, map, map], 3);
  const name = `${channels} ch ${map}²`;
  const forward = await timeCase(`${name} forward`, () => { const y = Tensor.empty(dy.shape); directGather(g, x.binding, w.binding, null, y); return y; });
  const reflect = await timeCase(`${name} input grad, reflect`, () => { const dx = Tensor.empty(x.shape); inputGrad(g, dy.binding, w.binding, dx); return dx; });
  const zeroPadded = await timeCase(`${name} input grad, zero-padded`, () => { const dx = Tensor.empty(x.shape); inputGrad(zero, dy.binding, w.binding, dx); return dx; });
  for (const t of [x, w, dy]) t.dispose();
  return { channels, map, forwardMs: forward.ms, reflectMs: reflect.ms, zeroMs: zeroPadded.ms };
}

async function main(): Promise<void> {
  await benchGpu();
  const maps = flag('maps', '256:16,128:32,64:64').split(',').map((c) => c.split(':').map(Number));
  const rows: FoldRow[] = [];
  for (const [channels, map] of maps) {
    const row = await measure(channels, map);
    rows.push(row);
    console.log(`  ${channels} ch ${map}²: forward ${fmt(row.forwardMs, 2)} ms, input grad ${fmt(row.reflectMs, 2)} ms reflect-padded, ${fmt(row.zeroMs, 2)} ms zero-padded (fold +${fmt(100 * (row.reflectMs / row.zeroMs - 1), 0)} %)`);
  }
  saveSection('fold', {
    title: 'The reflection fold: input gradient of a 3×3 reflect-padded convolution against the zero-padded one',
    notes: ['Batch 1, stride 1, the tuned variant of each; medians (timestamps where the adapter has them). The fold adds the transposed convolution at the padded positions onto their mirrors inside the gather.'],
    table: {
      head: ['channels', 'map', 'forward ms', 'input grad reflect ms', 'input grad zero-padded ms', 'fold cost'],
      rows: rows.map((x) => [x.channels, `${x.map}²`, fmt(x.forwardMs, 2), fmt(x.reflectMs, 2), fmt(x.zeroMs, 2), `+${fmt(100 * (x.reflectMs / x.zeroMs - 1), 0)} %`]),
    },
    data: { rows },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
