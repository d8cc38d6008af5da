// Full CycleGAN training step (G_s/G_t update, then D_t/D_s update, Adam; 9 ResNet blocks, 3 channels, batch 1,
// LSGAN) at 64²/ngf 16, 128²/ngf 32 and 256²/ngf 64, with ndf = ngf; without the content loss (the configuration
// bench/tfjs_step.ts builds in TensorFlow.js) and, with --content, with the VGG19-to-relu3_3 content loss (random
// weights: same FLOPs as trained ones). Wall time per step (the losses read back), dispatches per step,
// and the step's convolution FLOPs (counted by the runtime, checked against PyTorch in test/train/train_step.test.ts)
// per second, as a fraction of the adapter's GEMM ceiling measured in the same process (bench/gemm.ts); the floor is
// the time the step's convolutions alone would take at that ceiling, the least direct convolutions can reach.
// FLOPs are the direct count also where Winograd does 2.25× fewer multiply-adds, so a step can pass the floor.
// With --torch FILE (written by bench/torch_step.py on the same machine) the table adds PyTorch's time and the ratio.
//   node dist/bench/step.js [--configs 64:16,128:32,256:64] [--content] [--reps 3] [--torch FILE]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { rt } from '../src/graph/runtime.js';
import type { DType } from '../src/graph/tensor.js';
import { loadVggFeatures } from '../src/model/vgg19.js';
import { benchGpu, cycleGanStep, warmUp, WARMUP_STEPS, timeWall, saveSection, fmt, flag, gflops } from './harness.js';
import { measureCeiling } from './gemm.js';

export interface StepResult { size: number; ngf: number; content: boolean; ms: number; all: number[]; dispatches: number; submits: number; convFlops: number; poolBytes: number }

/** `maps`: the generators' map storage (train --precision). poolBytes: the buffers the pool holds after the steps
 * (live and free; reused by exact size, so about the step's peak). */
export async function measureStep(size: number, ngf: number, content: boolean, reps: number, channels = 3, maps: DType = 'f32'): Promise<StepResult> {
  const r = rt();
  const vgg = content ? await loadVggFeatures({ source: 'random', layers: ['relu3_3'] }) : null;
  const { step, dispose } = cycleGanStep(size, ngf, vgg ? (x) => vgg.features(x) : null, channels, maps);
  // Warm-up steps compile pipelines and run the autotune trials; the next is counted.
  await warmUp(step);
  const d0 = r.dispatchCount;
  const s0 = r.submitCount;
  const f0 = r.convFlops;
  await step();
  const dispatches = r.dispatchCount - d0;
  const submits = r.submitCount - s0;
  const convFlops = r.convFlops - f0;
  const t = await timeWall(step, 0, reps);
  const pool = r.pool.getStats();
  dispose();
  vgg?.dispose();
  return { size, ngf, content, ms: t.ms, all: t.all, dispatches, submits, convFlops, poolBytes: pool.liveBytes + pool.freeBytes };
}

async function main(): Promise<void> {
  await benchGpu();
  const configs = flag('configs', '64:16,128:32,256:64').split(',').map((c) => c.split(':').map(Number));
  const content = process.argv.includes('--content');
  const ceiling = await measureCeiling();
  console.log(`  GEMM ceiling ${fmt(ceiling.gflops, 2)} GFLOP/s (${ceiling.best})`);
  const results: StepResult[] = [];
  for (const [size, ngf] of configs) {
    // Large steps take minutes on CPU adapters: fewer repetitions there unless asked.
    const reps = Number(flag('reps', size >= 256 ? '1' : '3'));
    const res = await measureStep(size, ngf, content, reps);
    results.push(res);
    const rate = gflops(res.convFlops, res.ms);
    console.log(`  step ${size}²/ngf ${ngf}${content ? ' + VGG content' : ''}: ${fmt(res.ms)} ms (${res.all.map((v) => fmt(v, 0)).join(', ')}), ${res.dispatches} dispatches, ${res.submits} submits; ${fmt(res.convFlops / 1e9, 2)} conv GFLOP, ${fmt(rate, 2)} GFLOP/s = ${fmt((100 * rate) / ceiling.gflops, 0)} % of the ceiling (floor ${fmt(res.convFlops / 1e6 / ceiling.gflops, 0)} ms)`);
  }
  const torchFile = flag('torch', '');
  const torch = torchFile ? (JSON.parse(readFileSync(torchFile, 'utf8')) as { torch: string; device: string; cudnn: number | null; rows: { size: number; ngf: number; ms: number }[] }) : null;
  const torchMs = (x: StepResult) => torch?.rows.find((t) => t.size === x.size && t.ngf === x.ngf)?.ms;
  saveSection(content ? 'step-content' : 'step', {
    title: `Training step${content ? ' with VGG19 relu3_3 content loss' : ''} (3 channels, batch 1, 9 blocks, ndf = ngf)`,
    notes: [
      `Wall time per step, median of the listed repetitions after ${WARMUP_STEPS} warm-up steps (compilation, autotuning); every step is submitted in chunks (16 dispatches, doubling to 128) and ends with one readback of its six losses. Dispatches, submits and convolution FLOPs: those of the first step after them.`,
      `Convolution FLOPs per step as PyTorch counts them (2 per multiply-add, every tap), divided by the wall time; the GEMM ceiling, ${fmt(ceiling.gflops, 2)} GFLOP/s (${ceiling.best}), measured in the same process. Floor: the convolutions alone at the ceiling, computed directly (Winograd's 3×3 layers do 2.25× fewer multiply-adds than counted, so a step may pass it).`,
      ...(torch ? [`PyTorch ${torch.torch} on ${torch.device}${torch.cudnn ? ` (cuDNN ${torch.cudnn})` : ''}, same step (bench/torch_step.py), same machine.`] : []),
    ],
    table: {
      head: ['size', 'ngf', 'ms per step', 'repetitions (ms)', 'dispatches', 'submits', 'conv GFLOP', 'GFLOP/s', 'of ceiling', 'floor (ms)', ...(torch ? ['PyTorch ms', 'ours / PyTorch'] : [])],
      rows: results.map((x) => [
        `${x.size}²`, x.ngf, fmt(x.ms, 0), x.all.map((v) => fmt(v, 0)).join(', '), x.dispatches, x.submits,
        fmt(x.convFlops / 1e9, 2), fmt(gflops(x.convFlops, x.ms), 2), `${fmt((100 * gflops(x.convFlops, x.ms)) / ceiling.gflops, 0)} %`, fmt(x.convFlops / 1e6 / ceiling.gflops, 0),
        ...(torch ? [fmt(torchMs(x) ?? NaN, 1), `${fmt(x.ms / (torchMs(x) ?? NaN), 2)}×`] : []),
      ]),
    },
    data: { results, torch, ceiling },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
