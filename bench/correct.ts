// Correction throughput: a trained-size ResnetGenerator over a 2304×1728 RGB image (the Leishmania micrographs'
// size) with the tiled corrector (src/correct/tiled.ts: whole-image instance-norm statistics, tiles chosen from
// the adapter's limits), in megapixels per second. The paper's model (ngf 64, 9 blocks) costs ≈ 1.7 TFLOP per
// 2304×1728 image; on CPU adapters pass a smaller --ngf to keep the run short (the model is named in the results).
//   node dist/bench/correct.js [--ngf 64] [--blocks 9] [--width 2304] [--height 1728] [--reps 1]
import { pathToFileURL } from 'node:url';
import { hashUniform } from '../src/graph/random.js';
import { ResnetGenerator } from '../src/model/generator.js';
import { correctPlanes } from '../src/correct/tiled.js';
import { benchGpu, timeWall, saveSection, fmt, flag } from './harness.js';

async function main(): Promise<void> {
  await benchGpu();
  const ngf = Number(flag('ngf', '64'));
  const blocks = Number(flag('blocks', '9'));
  const width = Number(flag('width', '2304'));
  const height = Number(flag('height', '1728'));
  const reps = Number(flag('reps', '1'));
  const gen = new ResnetGenerator({ inChannels: 3, outChannels: 3, ngf, blocks, seed: 1 });
  const planes = hashUniform(3 * width * height, 5);
  let tiles = '';
  const run = async () => {
    const res = await correctPlanes(gen, planes, 3, height, width);
    tiles = `${res.tiles} tiles of ${res.tile}² × ${res.passes} passes`;
  };
  const t = await timeWall(run, 1, reps);
  const mpx = (width * height) / 1e6;
  console.log(`  correction ${width}×${height} RGB, ngf ${ngf}, ${blocks} blocks: ${fmt(t.ms, 0)} ms, ${fmt(mpx / (t.ms / 1000), 3)} Mpx/s (${tiles})`);
  saveSection('correct', {
    title: `Correction throughput (${width}×${height} RGB)`,
    notes: ['Wall time per image after one warm-up image, whole-image normalisation statistics (every pass tiled), output read back to the CPU.'],
    table: {
      head: ['model', 'tiling', 'ms per image', 'megapixels/s'],
      rows: [[`ngf ${ngf}, ${blocks} blocks`, tiles, fmt(t.ms, 0), fmt(mpx / (t.ms / 1000), 3)]],
    },
    data: { width, height, ngf, blocks, ms: t.ms, all: t.all, mpxPerS: mpx / (t.ms / 1000), tiles },
  });
  gen.dispose();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
