// Correction throughput: a trained-size ResnetGenerator over a 2304×1728 RGB image (the Leishmania micrographs'
// size, or --image FILE) with the exact tiled corrector (src/correct/tiled.ts, layer-major: each layer once over
// the image, tiles chosen from the adapter's limits), in megapixels per second, and the executed convolution FLOPs
// against one whole-image forward. With --before the previous exact method (bench/correct_passes.ts: one pass per
// normalisation layer) runs after it in the same process, and the two outputs are compared. One whole-image forward
// of the paper's model (ngf 64, 9 blocks) over 2304×1728 is 6.0 TFLOP (ngf 16: 0.40); on CPU adapters pass a smaller --ngf.
// --precision f32,f16 runs layer-major with each storage of the maps between layers, alternating image by image after
// a warm-up of each, and compares the outputs with the first (max |Δ|, PSNR over the [−1, 1] range). --model RUN (or
// pretrained:NAME) corrects with a trained RGB generator, the image mapped as it was trained, instead of random weights.
// --tiles auto,908 alternates the default tiles (rows as wide as the image) with square tiles of that edge, likewise.
//   node dist/bench/correct.js [--ngf 64] [--blocks 9] [--model RUN] [--width 2304] [--height 1728] [--image FILE] [--reps 1] [--warmup 1] [--precision f32[,f16]] [--tiles auto[,PX…]] [--before 0|1] [--before-tile 1016]
import { pathToFileURL } from 'node:url';
import { hashUniform } from '../src/graph/random.js';
import { readImage } from '../src/data/image.js';
import { fitNormalization, normalize, DEFAULT_PERCENTILES } from '../src/data/normalize.js';
import { normalizationMode } from '../src/correct/core.js';
import { loadGenerator } from '../src/train/run_folder.js';
import { ResnetGenerator } from '../src/model/generator.js';
import { correctPlanes } from '../src/correct/tiled.js';
import { correctByPasses, passesFlops, wholeForwardFlops } from './correct_passes.js';
import type { DType } from '../src/graph/tensor.js';
import { rt } from '../src/graph/runtime.js';
import { benchGpu, timeWall, saveSection, fmt, flag, median } from './harness.js';

async function main(): Promise<void> {
  await benchGpu();
  const model = flag('model', '');
  const trained = model ? await loadGenerator(model) : null;
  const gen = trained?.generator ?? new ResnetGenerator({ inChannels: 3, outChannels: 3, ngf: Number(flag('ngf', '64')), blocks: Number(flag('blocks', '9')), seed: 1 });
  const { ngf, blocks } = gen.opts;
  if (gen.opts.inChannels !== 3) throw new Error(`--model: an RGB generator is needed, ${model} takes ${gen.opts.inChannels} channel(s)`);
  const reps = Number(flag('reps', '1'));
  const warmup = Number(flag('warmup', '1'));
  const before = flag('before', '0') === '1';
  const file = flag('image', '');
  let width = Number(flag('width', '2304'));
  let height = Number(flag('height', '1728'));
  let planes = hashUniform(3 * width * height, 5);
  if (file) {
    const img = await readImage(file);
    [width, height] = [img.width, img.height];
    const d = trained?.config.data;
    planes = normalize(img, fitNormalization(img, d ? normalizationMode(img, d.normalization) : '8bit', d?.percentiles ?? DEFAULT_PERCENTILES));
  }
  if (width % 4 || height % 4) throw new Error(`image sides must be multiples of 4 here, got ${width}×${height}`);
  const mpx = (width * height) / 1e6;
  const whole = wholeForwardFlops(gen, height, width);
  // CPU seconds of the whole process (lavapipe's worker threads included): far less sensitive than wall time to
  // other load on a shared machine.
  const cpu = async (run: () => Promise<unknown>) => {
    const c0 = process.cpuUsage();
    await run();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1e6;
  };
  const precisions = flag('precision', 'f32').split(',') as DType[];
  if (precisions.some((p) => p !== 'f32' && p !== 'f16')) throw new Error(`--precision takes f32 and/or f16, got ${precisions.join(',')}`);
  type Result = Awaited<ReturnType<typeof correctPlanes>>;
  const tiles = flag('tiles', 'auto').split(',').map((t) => (t === 'auto' ? undefined : Number(t)));
  if (tiles.some((t) => t !== undefined && !(t > 0))) throw new Error(`--tiles takes auto and/or tile edges in pixels, got ${flag('tiles', 'auto')}`);
  const runs = precisions.flatMap((precision) => tiles.map((tile) => ({ precision, tile, result: null as Result | null, ms: [] as number[], cpuS: [] as number[], poolBytes: 0 })));
  const once = async (r: (typeof runs)[number]) => {
    // From an empty pool, so that the buffers it holds afterwards are this correction's high-water mark.
    rt().flush();
    rt().pool.trim();
    let cpuS = 0;
    const t = await timeWall(async () => (cpuS = await cpu(async () => (r.result = await correctPlanes(gen, planes, 3, height, width, { precision: r.precision, tile: r.tile })))), 0, 1);
    const pool = rt().pool.getStats();
    r.poolBytes = pool.liveBytes + pool.freeBytes;
    return { ms: t.ms, cpuS };
  };
  for (const r of runs) for (let i = 0; i < warmup; i++) await once(r);
  for (let i = 0; i < reps; i++) {
    for (const r of runs) {
      const { ms, cpuS } = await once(r);
      r.ms.push(ms);
      r.cpuS.push(cpuS);
    }
  }
  const a = runs[0].result!;
  const rows: (string | number)[][] = [];
  const line = (method: string, tiling: string, ms: number, cpuS: number, flops: number) => {
    rows.push([method, tiling, fmt(ms, 0), fmt(cpuS, 1), fmt(mpx / (ms / 1000), 3), fmt(flops / whole, 3)]);
    console.log(`  ${method}, ${width}×${height} RGB, ngf ${ngf}, ${blocks} blocks: ${fmt(ms, 0)} ms, ${fmt(cpuS, 1)} CPU s, ${fmt(mpx / (ms / 1000), 3)} Mpx/s, FLOPs ${fmt(flops / whole, 3)}× one whole-image forward (${tiling})`);
  };
  const precisionData = runs.map((r) => {
    const out = r.result!;
    let max = 0;
    let se = 0;
    for (let i = 0; i < a.output.length; i++) {
      const d = Math.abs(out.output[i] - a.output[i]);
      max = Math.max(max, d);
      se += d * d;
    }
    const psnr = 10 * Math.log10(4 / (se / a.output.length));
    line(`layer-major, ${r.precision} maps`, `${out.tiles} tiles of ${out.tile} × ${out.tileWidth} × ${out.passes} layers`, median(r.ms), median(r.cpuS), out.flops!);
    console.log(`    peak map memory ${fmt(out.peakBytes! / 2 ** 20, 1)} MiB (all GPU buffers: ${fmt(r.poolBytes / 2 ** 20, 1)} MiB); wall ${r.ms.map((m) => fmt(m, 0)).join(', ')} ms; CPU ${r.cpuS.map((c) => fmt(c, 1)).join(', ')} s${r === runs[0] ? '' : `; vs ${runs[0].precision}, ${runs[0].result!.tiles} tiles: max |Δ| ${max.toExponential(2)}, PSNR ${fmt(psnr, 1)} dB`}`);
    return { precision: r.precision, tile: r.tile ?? 'auto', tiles: out.tiles, tileHeight: out.tile, tileWidth: out.tileWidth, ms: median(r.ms), all: r.ms, cpuS: median(r.cpuS), allCpuS: r.cpuS, mpxPerS: mpx / (median(r.ms) / 1000), peakBytes: out.peakBytes, poolBytes: r.poolBytes, maxDiff: max, psnr };
  });
  // The previous exact corrector's tile for ngf 16 on lavapipe's 128 MiB binding limit (its chooseTile).
  const tile = Number(flag('before-tile', '1016'));
  const beforeFlops = passesFlops(gen, height, width, tile);
  let beforeData: { ms: number | null; cpuS: number | null; flops: number; maxDiff: number | null } = { ms: null, cpuS: null, flops: beforeFlops, maxDiff: null };
  if (before) {
    let out: Float32Array | null = null;
    let cpuS = 0;
    const tb = await timeWall(async () => (cpuS = await cpu(async () => (out = await correctByPasses(gen, planes, 3, height, width, tile)))), 0, 1);
    let diff = 0;
    for (let i = 0; i < a.output.length; i++) diff = Math.max(diff, Math.abs(a.output[i] - out![i]));
    line('one pass per norm layer (before)', `tile ${tile}, ${gen.normLayers + 1} passes`, tb.ms, cpuS, beforeFlops);
    console.log(`  max |layer-major − before| ${diff.toExponential(2)}`);
    beforeData = { ms: tb.ms, cpuS, flops: beforeFlops, maxDiff: diff };
  } else {
    console.log(`  one pass per norm layer (before, not run): FLOPs ${fmt(beforeFlops / whole, 3)}× one whole-image forward (tile ${tile})`);
  }
  saveSection('correct', {
    title: `Correction throughput (${width}×${height} RGB${file ? `, ${file.split('/').pop()}` : ''}${model ? `, ${model}` : ''})`,
    notes: ['Wall time per image (median; layer-major after --warmup images, precisions and tilings alternating, the baseline once), output read back to the CPU; FLOPs: 2 × multiply-adds of the convolutions executed over those of one whole-image forward.'],
    table: { head: ['method', 'tiling', 'ms per image', 'CPU s', 'megapixels/s', 'FLOPs / whole forward'], rows },
    data: { width, height, ngf, blocks, ms: precisionData[0].ms, all: precisionData[0].all, cpuS: precisionData[0].cpuS, mpxPerS: precisionData[0].mpxPerS, flopsRatio: a.flops! / whole, precisions: precisionData, before: beforeData },
  });
  gen.dispose();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
