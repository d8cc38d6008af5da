// CPU cost of recording one training step (issue 12, fixed cost per step): a step is recorded and submitted in chunks
// of 128 dispatches, so on a fast GPU the GPU's work overlaps all of this recording but the last chunk's. After two
// warm-up steps, each repetition runs the step twice: once for the recording and wall times, once with the calls into
// Dawn timed by wrappers (which pass through untimed in the first run, so that their own cost stays out of the
// recording time). Then steps with every dispatch elided give the host's cost alone.
//   node dist/bench/record.js [--configs 64:16,128:32] [--reps 5]
import { pathToFileURL } from 'node:url';
import { rt, Runtime } from '../src/graph/runtime.js';
import { benchGpu, cycleGanStep, warmUp, WARMUP_STEPS, timeRecording, saveSection, median, fmt, flag } from './harness.js';

type Timed = Record<string, number>;
let timing = false;
/** Host alone: dispatchWorkgroups records nothing, so the step's submits carry no GPU work to compete with. */
let elide = false;

/** Replaces obj[name] by a wrapper adding each call's duration to into[label] while `timing`. */
function timeCalls(obj: Record<string, unknown>, name: string, label: string, into: Timed): void {
  const original = obj[name] as (...args: unknown[]) => unknown;
  obj[name] = function (this: unknown, ...args: unknown[]) {
    if (elide && name === 'dispatchWorkgroups') return undefined;
    if (!timing) return original.apply(this, args);
    const t = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      into[label] = (into[label] ?? 0) + performance.now() - t;
    }
  };
}

interface RecordRow { size: number; ngf: number; dispatches: number; reusedBindGroups: number; wallMs: number; recordMs: number; hostAloneMs: number; calls: Timed }

async function measure(size: number, ngf: number, reps: number, calls: Timed): Promise<RecordRow> {
  const r = rt();
  const { step, dispose } = cycleGanStep(size, ngf);
  await warmUp(step);
  const runs: { wall: number; record: number; calls: Timed; dispatches: number; reused: number }[] = [];
  for (let i = 0; i < reps; i++) {
    for (const k of Object.keys(calls)) delete calls[k];
    const d0 = r.dispatchCount;
    const hits0 = r.bindGroupHits;
    const { wallMs, recordMs } = await timeRecording(r, step);
    const dispatches = r.dispatchCount - d0;
    const reused = r.bindGroupHits - hits0;
    timing = true;
    await step();
    timing = false;
    runs.push({ wall: wallMs, record: recordMs, calls: { ...calls }, dispatches, reused });
  }
  // The same steps with their dispatches elided: the host's whole cost of a step (recording, the losses' read-back),
  // which bounds a small step on a fast GPU, measured without the CPU adapter's threads competing for the cores.
  const hostAlone: number[] = [];
  elide = true;
  try {
    for (let i = 0; i < 2 * reps; i++) {
      const t0 = performance.now();
      await step();
      hostAlone.push(performance.now() - t0);
    }
  } finally {
    elide = false;
  }
  dispose();
  const labels = Object.keys(runs[0].calls);
  return {
    size, ngf, dispatches: runs[0].dispatches, reusedBindGroups: median(runs.map((x) => x.reused)),
    wallMs: median(runs.map((x) => x.wall)),
    recordMs: median(runs.map((x) => x.record)),
    hostAloneMs: median(hostAlone),
    calls: Object.fromEntries(labels.map((l) => [l, median(runs.map((x) => x.calls[l] ?? 0))])),
  };
}

async function main(): Promise<void> {
  await benchGpu();
  const configs = flag('configs', '64:16,128:32').split(',').map((c) => c.split(':').map(Number));
  const reps = Number(flag('reps', '5'));
  const calls: Timed = {};
  const r = rt();
  // Wrap the prototypes of the objects one step uses (a throwaway pass and pipeline give theirs).
  const encoder = r.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.end();
  encoder.finish();
  const passProto = Object.getPrototypeOf(pass) as Record<string, unknown>;
  for (const m of ['setPipeline', 'setBindGroup', 'dispatchWorkgroups']) timeCalls(passProto, m, m, calls);
  const module = r.device.createShaderModule({ code: '@compute @workgroup_size(1) fn main() {}' });
  const pipeline = r.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  timeCalls(Object.getPrototypeOf(pipeline) as Record<string, unknown>, 'getBindGroupLayout', 'getBindGroupLayout', calls);
  timeCalls(r.device as unknown as Record<string, unknown>, 'createBindGroup', 'createBindGroup', calls);
  timeCalls(Runtime.prototype as unknown as Record<string, unknown>, 'dispatch', 'Runtime.dispatch (all of the above included)', calls);
  const rows: RecordRow[] = [];
  for (const [size, ngf] of configs) {
    const row = await measure(size, ngf, reps, calls);
    rows.push(row);
    console.log(`  step ${size}²/ngf ${ngf}: wall ${fmt(row.wallMs)} ms, recorded in ${fmt(row.recordMs)} ms (${row.dispatches} dispatches, ${fmt((1000 * row.recordMs) / row.dispatches, 0)} µs each, ${row.reusedBindGroups} reused bind groups), host alone ${fmt(row.hostAloneMs)} ms; ` +
      Object.entries(row.calls).map(([k, v]) => `${k} ${fmt(v)} ms`).join(', '));
  }
  const labels = Object.keys(rows[0].calls);
  saveSection('record', {
    title: 'Recording one training step on the CPU (3 channels, batch 1, 9 blocks, ndf = ngf, no content loss)',
    notes: [
      `Medians of ${reps} steps after ${WARMUP_STEPS} warm-up steps. Recorded: from the step's start to its flush (the last of its submits) (the autograd, the tensor bookkeeping and every call into Dawn); wall: to the losses read back. Per call: the summed time inside each Dawn call (Runtime.dispatch includes them), timed in a second run of each step. Host alone: the median of twice as many steps with every dispatch elided (no GPU work): the host's whole cost of a step.`,
    ],
    table: {
      head: ['size', 'ngf', 'dispatches', 'bind groups reused', 'wall ms', 'recorded ms', 'µs per dispatch', 'host alone ms', ...labels.map((l) => `${l} ms`)],
      rows: rows.map((x) => [`${x.size}²`, x.ngf, x.dispatches, x.reusedBindGroups, fmt(x.wallMs), fmt(x.recordMs), fmt((1000 * x.recordMs) / x.dispatches, 0), fmt(x.hostAloneMs), ...labels.map((l) => fmt(x.calls[l]))]),
    },
    data: { rows },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
