// Training-step time of two builds of the engine, alternated in one process (timings on a shared CPU adapter swing
// between processes, so before/after comparisons of a change run back to back): each ROOT is a checkout with its
// own dist/ (npx tsc -p tsconfig.json) and shaders/. Same step as bench/step.ts, without the content loss. Besides
// wall time, the process's CPU time per step (all threads: on CPU adapters that is the GPU work), which other load
// on the machine disturbs much less, and the time to record the step (from its start to its flush; a fast GPU runs
// the chunks submitted before it meanwhile). Both builds must run the same kernel variants: run with COMI_AUTOTUNE=0
// (the defaults), or give both the same tuned choices (the cache file's name changes with its version).
//   node dist/bench/compare_step.js ROOT_A ROOT_B [--configs 64:16] [--rounds 9]
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { flag, median, fmt, timeRecording } from './harness.js';

interface Build {
  root: string;
  step: () => Promise<unknown>;
  dispatches: () => number;
  runtime: { flush: () => void };
  ms: number[];
  cpuMs: number[];
  recordMs: number[];
}

async function load(root: string, size: number, ngf: number): Promise<Build> {
  const mod = (p: string) => import(pathToFileURL(join(root, 'dist', p)).href);
  const runtime = await mod('src/graph/runtime.js');
  const { CycleGan } = await mod('src/model/cyclegan.js');
  const { randomTensor } = await mod('bench/harness.js');
  const r = await runtime.initGpu();
  const model = new CycleGan({ channels: 3, ngf, ndf: ngf, blocks: 9, contentWeight: 0, poolSize: 50, seed: 0 }, null, () => 0.5);
  const realS = randomTensor([1, 3, size, size], 11);
  const realT = randomTensor([1, 3, size, size], 12);
  const step = () => model.step(realS, realT);
  // Compiles pipelines and runs the autotune trials (the third step: those built on the first's choices); either
  // build's harness may predate warmUp.
  for (let i = 0; i < 3; i++) await step();
  return { root, step, dispatches: () => r.dispatchCount, runtime: r, ms: [], cpuMs: [], recordMs: [] };
}

async function main(): Promise<void> {
  const roots = process.argv.slice(2, 4).map((p) => resolve(p));
  if (roots.length !== 2 || roots.some((p) => p.startsWith('--'))) throw new Error('usage: compare_step.js ROOT_A ROOT_B [--configs 64:16] [--rounds 9]');
  const rounds = Number(flag('rounds', '9'));
  for (const [size, ngf] of flag('configs', '64:16').split(',').map((c) => c.split(':').map(Number))) {
    const builds = [await load(roots[0], size, ngf), await load(roots[1], size, ngf)];
    const dispatches: number[] = [];
    for (const b of builds) {
      const d0 = b.dispatches();
      await b.step();
      dispatches.push(b.dispatches() - d0);
    }
    for (let i = 0; i < rounds; i++) {
      // Alternate which build goes first, so neither always follows the other's work.
      for (const b of i % 2 ? [...builds].reverse() : builds) {
        const c0 = process.cpuUsage();
        const t = await timeRecording(b.runtime, b.step);
        const c = process.cpuUsage(c0);
        b.ms.push(t.wallMs);
        b.cpuMs.push((c.user + c.system) / 1000);
        b.recordMs.push(t.recordMs);
      }
    }
    builds.forEach((b, k) => {
      console.log(`${size}²/ngf ${ngf}  ${b.root}: wall median ${fmt(median(b.ms), 0)} ms, CPU median ${fmt(median(b.cpuMs), 0)} ms, recorded in ${fmt(median(b.recordMs))} ms (medians over ${rounds} steps), ${dispatches[k]} dispatches`);
      console.log(`  wall ${b.ms.map((v) => fmt(v, 0)).join(', ')}\n  CPU  ${b.cpuMs.map((v) => fmt(v, 0)).join(', ')}\n  recorded ${b.recordMs.map((v) => fmt(v)).join(', ')}`);
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
