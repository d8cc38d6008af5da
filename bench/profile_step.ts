// Where a training step's GPU time goes, kernel by kernel (issue 12): the step of bench/step.ts (no content loss) run
// with every dispatch timed by timestamp queries (each in its own compute pass, so the sum exceeds an untimed step
// by the passes' overhead), grouped by shader. Medians over the repetitions, after the warm-up steps.
//   node dist/bench/profile_step.js [--configs 64:16,256:64] [--reps 3]
import { pathToFileURL } from 'node:url';
import { rt } from '../src/graph/runtime.js';
import { benchGpu, cycleGanStep, WARMUP_STEPS, timeWall, saveSection, median, fmt, flag } from './harness.js';

interface KernelRow { kernel: string; dispatches: number; ms: number }
interface ProfileRow { size: number; ngf: number; wallMs: number; timedMs: number; kernels: KernelRow[] }

async function profile(size: number, ngf: number, reps: number): Promise<ProfileRow> {
  const r = rt();
  const { step, dispose } = cycleGanStep(size, ngf);
  const wall = await timeWall(step, WARMUP_STEPS, reps);
  const perRep: Map<string, { dispatches: number; ms: number }>[] = [];
  for (let i = 0; i < reps; i++) {
    r.startTiming();
    await step();
    const byKernel = new Map<string, { dispatches: number; ms: number }>();
    for (const { label, ms } of await r.stopTiming()) {
      const k = byKernel.get(label) ?? { dispatches: 0, ms: 0 };
      k.dispatches++;
      k.ms += ms;
      byKernel.set(label, k);
    }
    perRep.push(byKernel);
  }
  dispose();
  const kernels = [...perRep[0].keys()].map((kernel) => ({
    kernel,
    dispatches: perRep[0].get(kernel)!.dispatches,
    ms: median(perRep.map((m) => m.get(kernel)?.ms ?? 0)),
  }));
  kernels.sort((a, b) => b.ms - a.ms);
  return { size, ngf, wallMs: wall.ms, timedMs: median(perRep.map((m) => [...m.values()].reduce((s, k) => s + k.ms, 0))), kernels };
}

async function main(): Promise<void> {
  await benchGpu();
  if (!rt().canTime) throw new Error(`profile_step needs timestamp queries, which ${rt().gpu.adapterName} does not offer`);
  const configs = flag('configs', '64:16').split(',').map((c) => c.split(':').map(Number));
  const reps = Number(flag('reps', '3'));
  const rows: ProfileRow[] = [];
  for (const [size, ngf] of configs) {
    const row = await profile(size, ngf, reps);
    rows.push(row);
    console.log(`  step ${size}²/ngf ${ngf}: wall ${fmt(row.wallMs)} ms untimed; GPU time of its dispatches ${fmt(row.timedMs)} ms`);
    for (const k of row.kernels) console.log(`    ${k.kernel.padEnd(24)} ${String(k.dispatches).padStart(4)} dispatches ${fmt(k.ms, 2).padStart(9)} ms ${fmt((100 * k.ms) / row.timedMs).padStart(5)} %`);
  }
  saveSection('profile', {
    title: 'GPU time of a training step by kernel (3 channels, batch 1, 9 blocks, ndf = ngf, no content loss)',
    notes: [
      `Every dispatch of a step timed by timestamp queries in its own compute pass, summed per shader; medians of ${reps} steps after the warm-up steps. Wall: an untimed step (losses read back), median of ${reps}.`,
      ...rows.map((x) => `${x.size}²/ngf ${x.ngf}: wall ${fmt(x.wallMs)} ms untimed, dispatches' GPU time ${fmt(x.timedMs)} ms.`),
    ],
    table: {
      head: ['step', 'kernel', 'dispatches', 'GPU ms', 'share'],
      rows: rows.flatMap((x) => x.kernels.map((k) => [`${x.size}²/ngf ${x.ngf}`, k.kernel, k.dispatches, fmt(k.ms, 2), `${fmt((100 * k.ms) / x.timedMs)} %`])),
    },
    data: { rows },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
