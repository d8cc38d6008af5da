// One convolution's forward, weight gradient and stride-2 input gradient in two builds of the engine, alternated in
// one process (as bench/compare_step.ts does for steps): each ROOT is a checkout with its own dist/ and shaders/.
// A strategy can be forced in both (e.g. the GPUs' 'tiles', which CPU adapters never pick), so that a kernel change
// is timed where it runs. Medians over the rounds of timeCase's medians.
//   node dist/bench/compare_conv.js ROOT_A ROOT_B [--channels 64] [--map 32] [--strategy tiles --tm 4 --tn 4 --wg 256] [--tiled-gemm yes] [--rounds 5]
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { flag, median, fmt } from './harness.js';

type Case = () => Promise<{ ms: number }>;

async function load(root: string, channels: number, map: number): Promise<Record<string, Case>> {
  const mod = (p: string) => import(pathToFileURL(join(root, 'dist', p)).href);
  const h = await mod('bench/harness.js');
  const { Tensor } = await mod('src/graph/tensor.js');
  const cg = await mod('src/kernels/conv_gemm.js');
  await h.benchGpu();
  const strategy = flag('strategy', '');
  if (strategy) cg.setConvTiling({ strategy, tm: Number(flag('tm', '4')), tn: Number(flag('tn', '4')), wg: Number(flag('wg', '256')), tiledGemm: flag('tiled-gemm', 'no') === 'yes' });
  const g = { N: 1, Cin: channels, H: map, W: map, Cout: channels, OH: map, OW: map, KH: 3, KW: 3, stride: 1, pad: 1, reflect: true };
  const strided = { ...g, stride: 2, OH: map / 2, OW: map / 2, reflect: false };
  const x = h.randomTensor([1, channels, map, map], 1);
  const w = h.randomTensor([channels, channels, 3, 3], 2);
  const dy = h.randomTensor([1, channels, map, map], 3);
  const dyStrided = h.randomTensor([1, channels, map / 2, map / 2], 4);
  return {
    'forward (reflect)': () => h.timeCase('forward', () => { const y = Tensor.empty(dy.shape); cg.directGather(g, x.binding, w.binding, null, y); return y; }, 5, 1),
    'weight grad (reflect)': () => h.timeCase('weight grad', () => cg.weightGrad(g, x.binding, dy.binding), 5, 1),
    'input grad (stride 2)': () => h.timeCase('input grad', () => { const dx = Tensor.empty(x.shape); cg.inputGrad(strided, dyStrided.binding, w.binding, dx); return dx; }, 5, 1),
  };
}

async function main(): Promise<void> {
  const roots = process.argv.slice(2, 4).map((p) => resolve(p));
  if (roots.length !== 2 || roots.some((p) => p.startsWith('--'))) throw new Error('usage: compare_conv.js ROOT_A ROOT_B [--channels 64] [--map 32] [--strategy tiles] [--rounds 5]');
  const channels = Number(flag('channels', '64'));
  const map = Number(flag('map', '32'));
  const rounds = Number(flag('rounds', '5'));
  const builds = [await load(roots[0], channels, map), await load(roots[1], channels, map)];
  const times = builds.map((b) => Object.fromEntries(Object.keys(b).map((k) => [k, [] as number[]])));
  for (let r = 0; r < rounds; r++) {
    for (const [i, b] of builds.entries()) for (const [name, run] of Object.entries(b)) times[i][name].push((await run()).ms);
  }
  console.log(`${channels} → ${channels} channels, 3×3, ${map}² map${flag('strategy', '') ? `, ${flag('strategy', '')} forced` : ''}; medians of ${rounds} rounds`);
  for (const [i, root] of roots.entries()) {
    console.log(`  ${root}: ${Object.entries(times[i]).map(([name, v]) => `${name} ${fmt(median(v), 2)} ms (${v.map((x) => fmt(x)).join(', ')})`).join('; ')}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
