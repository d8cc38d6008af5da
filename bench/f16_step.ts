// Training steps with the generators' maps stored as f32 and as f16 (train --precision f16), alternated in one
// process (the host's load drifts): wall time per step (median of the repetitions of every round) and the GPU buffers
// the pool holds after the steps (about the step's peak). Needs the adapter's shader-f16.
//   node dist/bench/f16_step.js [--configs 64:16,128:32] [--reps 3] [--rounds 2]
import { pathToFileURL } from 'node:url';
import { rt } from '../src/graph/runtime.js';
import { benchGpu, saveSection, fmt, flag, median } from './harness.js';
import { measureStep, type StepResult } from './step.js';

const MAPS = ['f32', 'f16'] as const;

async function main(): Promise<void> {
  await benchGpu();
  rt().requireF16('bench/f16_step');
  const configs = flag('configs', '64:16,128:32').split(',').map((c) => c.split(':').map(Number));
  const reps = Number(flag('reps', '3'));
  const rounds = Number(flag('rounds', '2'));
  const rows: (string | number)[][] = [];
  const data: Record<string, StepResult[]> = {};
  for (const [size, ngf] of configs) {
    const runs: Record<string, StepResult[]> = { f32: [], f16: [] };
    for (let round = 0; round < rounds; round++) {
      for (const maps of MAPS) runs[maps].push(await measureStep(size, ngf, false, reps, 3, maps));
    }
    for (const maps of MAPS) {
      const all = runs[maps].flatMap((x) => x.all);
      const mib = Math.max(...runs[maps].map((x) => x.poolBytes)) / 2 ** 20;
      console.log(`  step ${size}²/ngf ${ngf}, ${maps} maps: ${fmt(median(all))} ms (${all.map((v) => fmt(v, 0)).join(', ')}), ${runs[maps][0].dispatches} dispatches, ${fmt(mib, 1)} MiB of buffers`);
      rows.push([`${size}²`, ngf, maps, fmt(median(all), 0), all.map((v) => fmt(v, 0)).join(', '), runs[maps][0].dispatches, fmt(mib, 1)]);
      data[`${size}:${ngf}:${maps}`] = runs[maps];
    }
  }
  saveSection('f16-step', {
    title: 'Training step with f32 and f16 generator maps (train --precision), alternated',
    notes: [`Medians over ${rounds} rounds of ${reps} steps each (f32 and f16 alternating by round, after warm-up steps); MiB: the buffers the pool holds after the steps (live and free).`],
    table: { head: ['size', 'ngf', 'maps', 'ms per step', 'repetitions (ms)', 'dispatches', 'MiB of buffers'], rows },
    data,
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
