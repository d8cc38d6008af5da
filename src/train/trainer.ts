// The training loop behind `comi train`: data, model, schedule, checkpoints, log and samples in a run folder.
// Everything that decides the numbers (weights, Adam moments, image pools, both random streams, iteration) is in the
// checkpoint, so a resumed run continues bit for bit where the checkpoint left off.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { initGpu, rt } from '../graph/runtime.js';
import { trialsRecorded } from '../kernels/autotune.js';
import { Tensor } from '../graph/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { nameSeed } from '../model/module.js';
import { CycleGan, linearDecay, type FeatureFn, type GanModel, type StepLosses } from '../model/cyclegan.js';
import { Pix2Pix } from '../model/pix2pix.js';
import { DeblurGan } from '../model/deblurgan.js';
import { ResnetGenerator } from '../model/generator.js';
import { loadVggFeatures, vggWeightsCached, type VggFeatures, type VggSource } from '../model/vgg19.js';
import { RECOMMENDED_CONTENT, type ContentTerm } from '../model/content_loss.js';
import { registerPairs, registrationNote } from '../data/register.js';
import { binPlanes, binnedSize } from '../data/bin.js';
import { deconvolveNormalized, type RlInput } from '../model/richardson_lucy.js';
import { createSampler, datasetPlane, loadDataset, loadSplit, saveSplit, selectKeys, splitDataset, type Dataset, type DatasetImage, type Sampler } from '../data/dataset.js';
import { Rng, type RngState } from '../data/rng.js';
import { captureCheckpoint, readCheckpoint, restoreCheckpoint, writeCheckpoint, type CheckpointMeta } from './checkpoint.js';
import { NanGuard, DEFAULT_NAN_CHECK_EVERY, type OnNan } from './guards.js';
import { removeStaleTempFiles } from '../io/tempfiles.js';
import { checkSplit, unmatchedNote } from './data_checks.js';
import { loadGenerator, readRunConfig, runPaths, saveGenerator, writeRunConfig, type RunConfig } from './run_folder.js';
import { appendLog, truncateLog, type LogEntry, type HeldOutCheck } from './log.js';
import { pcc } from '../eval/metrics.js';
import { writeFileAtomic } from '../io/atomic.js';
import { samplePath, writeSample } from './samples.js';
import { validationSet, meanPsnr, type Keep, type KeptCorrector } from './validation.js';

export const TRAIN_FRACTION = 0.8;
/** pytorch-CycleGAN-and-pix2pix's image pool size. */
export const DEFAULT_POOL_SIZE = 50;

export interface TrainSchedule {
  /** Save checkpoints/latest.safetensors and generator.safetensors every N iterations (and at the end). */
  checkpointEvery: number;
  /** Write samples/iter_N.png every N iterations (and at the end); 0 for never. */
  sampleEvery: number;
  /** Append to log.jsonl every N iterations (and at the last). */
  logEvery: number;
  /** Check weights and Adam moments for NaN / Inf every N iterations (and before each checkpoint); default 10. */
  nanCheckEvery?: number;
  /** On NaN / Inf: return to the last good state with half the learning rate (default), or stop. */
  onNan?: OnNan;
  /** generator.safetensors: the checkpoint (iteration 0 included) that scores best on the held-out pairs
   * (train/validation.ts; default), or the last one. Without held-out pairs: the last. */
  keep?: Keep;
}

export interface TrainOptions {
  runDir: string;
  /** A new run: its configuration (vgg is filled in here). Absent: resume the run in runDir from its checkpoint. */
  config?: RunConfig;
  /** New run with content loss: which VGG19 weights. */
  vggSource?: VggSource;
  /** New run with content loss: which VGG19 feature maps (default relu3_3). */
  vggLayers?: string[];
  /** Resume only: train up to this many iterations instead of the configured number. */
  iterations?: number;
  /** New run only: seconds from this call that training may take. After PROBE_ITERATIONS steps the run is shortened
   * to the iterations that fit at the speed of those that compiled and tuned nothing (never lengthened); its decay
   * start and check cadence shrink with it. Each later step shortens it again where the last SPEED_WINDOW steps ran
   * slower. */
  timeLimit?: number;
  /** Milliseconds for --time-limit's timing (default performance.now; tests pass a made-up clock). */
  clock?: () => number;
  schedule: TrainSchedule;
  /** Aborting stops after the current iteration with a checkpoint (Ctrl-C). */
  signal?: AbortSignal;
  onNote?: (message: string) => void;
  /** The held-out guard's finding at a checkpoint: the corrector does worse than the uncorrected input. */
  onWarning?: (message: string) => void;
  onLoad?: (done: number, total: number) => void;
  /** Called once before the first iteration of this session. */
  /** validation: under --keep best, the held-out pairs scored at each check, their input's score and the best so far. */
  onStart?: (info: { config: RunConfig; start: number; trainItems: number; model: GanModel; validation?: { pairs: number; inputPsnr: number; kept: KeptCorrector } }) => void;
  onIteration?: (entry: LogEntry) => void;
  /** --time-limit shortened the run to this many iterations. */
  onShortened?: (iterations: number) => void;
}

/** Why a resumed run refuses --time-limit (the CLI says it at parse time, the trainer to every other caller). */
export const TIME_LIMIT_ON_RESUME = '--time-limit sets the length of a new run; a resumed run keeps its own (give --iters to change it)';

/** Steps, after the first, before --time-limit sets the run's length from those timed (steps that compile pipelines or
 * record autotune trials are not: the first, and the second, which tunes how each layer's gradients pair). */
export const PROBE_ITERATIONS = 10;

/** Recent steps whose mean speed re-sizes a time-limited run as it goes (machines slow down under load). */
export const SPEED_WINDOW = 50;

/** The run's length under a time limit: the most iterations, at most the planned ones and at least `least`, whose
 * remaining steps and checks fit in the seconds left at the speeds measured on this machine. */
export function iterationsWithin(t: { secondsLeft: number; secondsPerIteration: number; secondsPerCheck: number; checks: number; done: number; least: number; planned: number }): number {
  const fit = t.done + Math.floor((t.secondsLeft - t.checks * t.secondsPerCheck) / t.secondsPerIteration);
  return Math.min(t.planned, Math.max(t.least, fit));
}

/** Scheduled checks after iteration `done` up to and including the last one, `end` (always a check). */
export function checksLeft(done: number, end: number, every: number): number {
  if (done >= end) return 0;
  return Math.floor(end / every) - Math.floor(done / every) + (end % every === 0 ? 0 : 1);
}

export interface TrainResult {
  /** Iterations completed (the checkpoint's iteration). */
  iteration: number;
  /** The last held-out check (also in summary.json). */
  heldOut?: HeldOutCheck;
  /** What generator.safetensors holds under --keep best (also in summary.json); absent: the last checkpoint. */
  kept?: KeptCorrector;
  interrupted: boolean;
  config: RunConfig;
}

/** Thrown when a stop is requested before the first iteration: nothing was saved (a new run folder is removed). */
export class TrainingInterrupted extends Error {
  constructor(resuming: boolean) {
    super(resuming ? 'interrupted before the first iteration; the run is as its checkpoint left it' : 'interrupted before training started; the new run folder was removed');
    this.name = 'TrainingInterrupted';
  }
}

/** Learning rate of 0-based iteration i: constant until decayStart, then linearly towards 0 (CycleGAN's policy). */
export function learningRate(o: RunConfig['optim'], i: number): number {
  return o.lr * linearDecay(i + 1, o.decayStart, o.iterations - o.decayStart);
}

interface RngStates { data: RngState; pool: RngState }

function isEmptyDir(dir: string): boolean {
  return readdirSync(dir).length === 0;
}

/** Makes the folder of a new run; returns how to undo it (remove what this run created). */
function prepareRunFolder(dir: string): () => void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new Error(`--out ${dir} is a file, not a folder`);
    if (!isEmptyDir(dir)) {
      throw new Error(`--out ${dir} exists and is not empty; choose a new folder, or pass --resume to continue the run in it`);
    }
    return () => {
      for (const f of readdirSync(dir)) rmSync(`${dir}/${f}`, { recursive: true, force: true });
    };
  }
  mkdirSync(dir, { recursive: true });
  return () => rmSync(dir, { recursive: true, force: true });
}

function datasetOptions(config: RunConfig, onProgress: (done: number, total: number) => void) {
  const d = config.data;
  return {
    root: d.root, layout: d.layout, source: d.source ?? undefined, target: d.target ?? undefined, inFocus: d.inFocus ?? undefined,
    planes: d.planes ?? undefined, normalization: d.normalization, percentiles: d.percentiles, onProgress,
  };
}

function hasSamples(ds: Dataset): boolean {
  return ds.layout === 'unpaired' ? ds.source.length > 0 && ds.target.length > 0 : ds.pairs.length > 0;
}

/** The dataset with each source image deconvolved (the corrector's input stage); targets as they are. */
async function deconvolveSources(ds: Dataset, rl: RlInput): Promise<Dataset> {
  const done = new Map<DatasetImage, DatasetImage>();
  for (const d of ds.source) done.set(d, { ...d, planes: await deconvolveNormalized(d.planes, d.channels, d.width, d.height, rl) });
  return { ...ds, source: [...done.values()], pairs: ds.pairs.map((p) => ({ ...p, source: done.get(p.source)! })) };
}

/** The dataset with every image binned n×n (src/data/bin.ts); a target that serves several pairs is binned once.
 *  Throws, naming the file and both sizes, where a binned image is smaller than the crop. */
function binDataset(ds: Dataset, n: number, size: number): Dataset {
  const binned = new Map<DatasetImage, DatasetImage>();
  const of = (d: DatasetImage) => {
    let b = binned.get(d);
    if (!b) {
      const grid = binnedSize(d.width, d.height, n);
      if (Math.min(grid.width, grid.height) < size) {
        throw new Error(`${join(ds.root, d.file)} is ${d.width}×${d.height}, ${grid.width}×${grid.height} binned ${n}×${n}: smaller than the crop size ${size}; use a smaller --bin or --size`);
      }
      binned.set(d, (b = { ...d, ...grid, planes: binPlanes(d.planes, d.channels, d.width, d.height, n) }));
    }
    return b;
  };
  return { ...ds, source: ds.source.map(of), target: ds.target.map(of), pairs: ds.pairs.map((p) => ({ ...p, source: of(p.source), target: of(p.target) })) };
}

/** Held-out crops the guard corrects at every checkpoint. */
const GUARD_CROPS = 8;

/** Fixed crops of the held-out split (the training split when it has none), showing structure. */
function guardSamples(test: Dataset, train: Dataset, size: number, seed: number) {
  const ds = hasSamples(test) ? test : train;
  if (ds.layout === 'unpaired') return [];
  const sampler = createSampler(ds, { size, augment: { rotate: false, flip: false, scale: false }, structured: true });
  const rng = new Rng(nameSeed(seed, 'guard'));
  return Array.from({ length: GUARD_CROPS }, () => sampler.nextSample(rng));
}

/** Why a corrector with this held-out correlation is not to be trusted, or null. */
export function heldOutWarning(correctedPcc: number, inputPcc: number): string | null {
  if (!(correctedPcc >= 0)) return `held-out correlation with the target is ${correctedPcc.toFixed(3)}: the corrector inverts or destroys the image`;
  if (correctedPcc < inputPcc) return `held-out correlation with the target ${correctedPcc.toFixed(3)} is below the uncorrected input's ${inputPcc.toFixed(3)}`;
  return null;
}

const meanPcc = (pairs: [Float32Array, Float32Array][], size: number, channels: number) =>
  pairs.reduce((a, [p, t]) => a + pcc({ width: size, height: size, channels, data: p }, { width: size, height: size, channels, data: t }), 0) / pairs.length;

/** The fixed preview crop shown in every sample image: from the test split when it has one. */
function previewSample(test: Dataset, train: Dataset, size: number, seed: number) {
  const sampler = createSampler(hasSamples(test) ? test : train, { size, augment: { rotate: false, flip: false, scale: false } });
  return sampler.nextSample(new Rng(nameSeed(seed, 'preview')));
}

function drawBatch(sampler: Sampler, rng: Rng, batch: number, channels: number): { source: Float32Array; target: Float32Array } {
  const n = channels * sampler.size * sampler.size;
  const source = new Float32Array(batch * n);
  const target = new Float32Array(batch * n);
  for (let k = 0; k < batch; k++) {
    const s = sampler.nextSample(rng);
    source.set(s.source, k * n);
    target.set(s.target, k * n);
  }
  return { source, target };
}

function describeLosses(l: StepLosses): string {
  return Object.entries(l).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(', ');
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const clock = opts.clock ?? (() => performance.now());
  const began = clock();
  const { runDir } = opts;
  const schedule = { ...opts.schedule }; // --time-limit may shrink this run's check cadence
  const paths = runPaths(runDir);
  const resuming = !opts.config;
  if (resuming) removeStaleTempFiles(runDir);
  let stop = opts.signal?.aborted ?? false;
  const onAbort = () => (stop = true);
  opts.signal?.addEventListener('abort', onAbort);
  // Until the first checkpoint of a new run exists, a failure removes the run folder so that it can be reused.
  let undo: (() => void) | null = resuming ? null : prepareRunFolder(runDir);
  let model: GanModel | null = null;
  let vgg: VggFeatures | null = null;
  try {
    const config: RunConfig = resuming ? readRunConfig(runDir) : structuredClone(opts.config!);
    const ckpt = resuming ? readCheckpointOf(runDir, opts.onNote) : null;
    if (resuming && opts.iterations !== undefined) {
      if (ckpt && opts.iterations < ckpt.meta.iteration) {
        throw new Error(`--iters ${opts.iterations} is below the checkpoint's iteration ${ckpt.meta.iteration}`);
      }
      config.optim.iterations = opts.iterations;
    }
    if (resuming && opts.timeLimit !== undefined) throw new Error(TIME_LIMIT_ON_RESUME);
    if (config.precision === 'f16') {
      // Refused before any loading on adapters without f16 storage.
      await initGpu();
      rt().requireF16('--precision f16');
    }
    const startIteration = ckpt?.meta.iteration ?? 0;
    if (resuming && startIteration >= config.optim.iterations) {
      throw new Error(`the run in ${runDir} has finished (${startIteration} of ${config.optim.iterations} iterations); pass --iters N to train longer`);
    }
    if (!resuming && config.data.layout === 'unpaired' && config.losses.contentWeight > 0) {
      opts.onNote?.('content loss off: it compares paired images (eq. 6–8), and an unpaired dataset has no pairs');
      config.losses.contentWeight = 0;
    }

    if (!resuming && !config.losses.content && config.losses.contentWeight > 0) {
      // No --content: the paper's VGG19 term when its ImageNet weights are here, else the measured best pixel terms.
      const source = opts.vggSource ?? 'keras';
      config.losses.content = source !== 'random' && !vggWeightsCached(source) ? [...RECOMMENDED_CONTENT] : ['vgg'];
      opts.onNote?.(config.losses.content.includes('vgg')
        ? `content loss: VGG19 features (${source} weights), the paper's recipe`
        : `content loss: ${config.losses.content.join('+')} (no VGG19 ${source} weights here; this is the recommended recipe without them — docs/results.md)`);
    }
    const terms = config.losses.content ?? ['vgg'];
    // VGG first: a missing weights file stops the run before minutes of data loading.
    let features: FeatureFn | null = null;
    if (config.losses.contentWeight > 0 && terms.includes('vgg')) {
      const source = resuming ? config.vgg?.source : opts.vggSource ?? 'keras';
      if (!source) throw new Error(`${paths.config}: content weight is ${config.losses.contentWeight} but no vgg is recorded`);
      await initGpu();
      const net = await loadVggFeatures({ source: source as VggSource, layers: resuming ? config.vgg?.layers : opts.vggLayers, seed: config.seed });
      vgg = net;
      features = (x) => net.features(x);
      if (!resuming) config.vgg = net.describe();
    } else if (!resuming) config.vgg = null;
    if (config.losses.adversarialWeight === 0 && config.losses.contentWeight === 0 && config.losses.cycleWeight === 0) {
      throw new Error('every loss weight is 0 (--adversarial-weight, --content-weight, --cycle-weight): nothing to train');
    }

    const loaded = await loadDataset(datasetOptions(config, (done, total) => {
      if (stop) throw new TrainingInterrupted(resuming);
      opts.onLoad?.(done, total);
    }));
    if (stop) throw new TrainingInterrupted(resuming);
    let ds = loaded;
    if (config.data.bin) {
      ds = binDataset(ds, config.data.bin, config.data.size);
      opts.onNote?.(`binned ${config.data.bin}×${config.data.bin}: the network trains and corrects on images of ${ds.source[0].width}×${ds.source[0].height} (the first), its output upsampled back`);
    }
    if (config.model.rlInput) {
      opts.onNote?.(`input stage: Richardson–Lucy, Gaussian σ ${config.model.rlInput.sigma.toFixed(2)} px, ${config.model.rlInput.iterations} iterations, on every input before the network`);
      ds = await deconvolveSources(ds, config.model.rlInput);
    }
    if (config.data.register) {
      const r = registerPairs(ds, config.data.register);
      ds = r.dataset;
      opts.onNote?.(registrationNote(r.shifts, config.data.register));
    }
    const channels = ds.source[0].channels;
    if (ds.target[0].channels !== channels) {
      throw new Error(`source images have ${channels} channel(s) and target images ${ds.target[0].channels}; both domains need the same`);
    }
    if (resuming && channels !== config.model.channels) {
      throw new Error(`the run was trained on ${config.model.channels}-channel images, but ${config.data.root} now has ${channels}-channel images`);
    }
    config.model.channels = channels;
    if (!resuming && config.data.layout === 'zstack' && !config.data.planes) {
      config.data.planes = [...new Set(ds.source.map((d) => datasetPlane(d.file)))];
    }
    const split = ckpt ? loadSplit(paths.split) : splitDataset(ds.keys, config.seed, TRAIN_FRACTION);
    if (!ckpt) checkSplit(split, ds);
    const unmatched = unmatchedNote(ds);
    if (unmatched) opts.onNote?.(unmatched);
    const trainDs = selectKeys(ds, split.train);
    const size = config.data.size;
    const sampler = createSampler(trainDs, { size, structured: config.data.crops === 'structured', sharedScale: config.data.pairScale === 'shared' });
    const preview = previewSample(selectKeys(ds, split.test), trainDs, size, config.seed);
    const heldOutSamples = guardSamples(selectKeys(ds, split.test), trainDs, size, config.seed);
    const guardInputPcc = heldOutSamples.length ? meanPcc(heldOutSamples.map((g) => [g.source, g.target]), size, channels) : NaN;
    const validation = validationSet(selectKeys(ds, split.test), config.seed, config.model.method === 'pix2pix' ? 2 ** config.model.downs! : 4);
    if (schedule.keep === 'best' && !validation) opts.onNote?.('--keep best needs held-out pairs to validate on; the last checkpoint is kept');
    const keepBest = schedule.keep !== 'last' && validation !== null;

    const rng = { data: new Rng(nameSeed(config.seed, 'data')), pool: new Rng(nameSeed(config.seed, 'pool')) };
    const o = config.optim;
    await initGpu();
    model = buildModel(config, terms, features, () => rng.pool.next());
    if (config.precision === 'f16') useF16Maps(model);
    if (!ckpt && config.init) await initCorrector(model, config.init, channels);
    if (!ckpt && config.startAtInput) startAtInput(model);
    let start = 0;
    let seconds = 0;
    config.schedule = schedule;
    const guard = new NanGuard(model, schedule.nanCheckEvery ?? DEFAULT_NAN_CHECK_EVERY, schedule.onNan ?? 'rollback', opts.onNote);
    if (ckpt) {
      guard.remember(ckpt); // a checkpoint with NaN / Inf (written before these guards) is refused here
      restoreCheckpoint(model, ckpt);
      const states = ckpt.meta.rng as RngStates;
      rng.data.setState(states.data);
      rng.pool.setState(states.pool);
      start = ckpt.meta.iteration;
      seconds = ckpt.meta.seconds;
      truncateLog(paths.log, start);
      writeRunConfig(runDir, config); // this session's schedule and --iters
    } else {
      writeRunConfig(runDir, config);
      saveSplit(paths.split, split);
      truncateLog(paths.log, 0); // a restarted run that was killed before its first checkpoint
    }
    mkdirSync(paths.samples, { recursive: true });
    mkdirSync(paths.checkpoints, { recursive: true });

    const session = performance.now();
    const elapsed = () => seconds + (performance.now() - session) / 1000;
    const net = model;
    let kept: KeptCorrector | undefined = keepBest ? ckpt?.meta.kept : undefined;
    const meta = (iteration: number): CheckpointMeta => ({ iteration, rng: { data: rng.data.state(), pool: rng.pool.state() }, config, seconds: elapsed(), lrScale: guard.lrScale, kept });
    // keepGenerator: this iteration's G_s becomes the run's corrector (always under --keep last).
    const checkpoint = async (iteration: number, keepGenerator: boolean) => {
      const state = await captureCheckpoint(net, meta(iteration));
      guard.remember(state); // throws before anything non-finite is written
      writeCheckpoint(paths.checkpoint, state);
      if (keepGenerator) await saveGenerator(paths.generator, net.gS, config);
      undo = null;
    };
    /** G_s's output for planes of the given [N, C, H, W] shape, without recording onto the tape. */
    const correctPlanes = async (planes: Float32Array, shape: number[]): Promise<Float32Array> => {
      const input = Tensor.fromArray(planes, shape);
      const output = noGrad(() => net.gS.forward(input));
      const out = await output.data();
      input.dispose();
      output.dispose();
      return out;
    };
    const writePreview = async (iteration: number) => {
      const out = await correctPlanes(preview.source, [1, channels, size, size]);
      await writeSample(samplePath(paths.samples, iteration), [preview.source, out, preview.target], channels, size);
    };

    // Silent failure (identity, inversion) shows as held-out correlation at or below the uncorrected input's.
    const checkHeldOut = async (): Promise<HeldOutCheck | undefined> => {
      if (!heldOutSamples.length) return undefined;
      // One batch: instance norm is per image, so each output equals its own forward (pix2pix's BatchNorm takes the
      // batch's statistics, as pix2pix's test does for its batch).
      const n = channels * size * size;
      const batch = new Float32Array(heldOutSamples.length * n);
      heldOutSamples.forEach((g, k) => batch.set(g.source, k * n));
      const corrected = await correctPlanes(batch, [heldOutSamples.length, channels, size, size]);
      const outs = heldOutSamples.map((g, k): [Float32Array, Float32Array] => [corrected.subarray(k * n, (k + 1) * n), g.target]);
      const correctedPcc = meanPcc(outs, size, channels);
      return { correctedPcc, inputPcc: guardInputPcc, warning: heldOutWarning(correctedPcc, guardInputPcc) };
    };
    // One image per forward: whole-window instance-norm statistics, as correction of an image of that size has.
    const validate = async (): Promise<number> => {
      const outputs: Float32Array[] = [];
      for (const v of validation!.images) outputs.push(await correctPlanes(v.source, [1, channels, v.height, v.width]));
      return meanPsnr(outputs, validation!.images, channels);
    };
    let secondsPerCheck = 0;
    if (!ckpt) {
      const checkStarted = clock();
      const state = await captureCheckpoint(net, meta(0));
      guard.remember(state);
      if (keepBest) {
        const psnr = await validate();
        kept = { iteration: 0, psnr, startPsnr: psnr };
        await saveGenerator(paths.generator, net.gS, config);
      }
      secondsPerCheck = (clock() - checkStarted) / 1000;
    }
    // --time-limit: after the probe's steps, the iterations that fit, the run keeping its number of checks; then after
    // every step the same at the last SPEED_WINDOW steps' speed, only ever shorter (a longer run would raise the
    // decayed learning rate again), the check cadence kept.
    const planned = { iterations: o.iterations, decayStart: o.decayStart };
    const stepSeconds: number[] = []; // the last SPEED_WINDOW steps' durations
    let resized = false; // o.iterations changed since config.json was last written
    let noted = o.iterations; // the length the log last gave
    let probed = false;
    const fitToTimeLimit = () => {
      const probe = !probed;
      probed = true;
      const secondsPerIteration = stepSeconds.reduce((a, b) => a + b, 0) / stepSeconds.length;
      const plannedChecks = Math.ceil(o.iterations / schedule.checkpointEvery);
      const iterations = iterationsWithin({
        secondsLeft: opts.timeLimit! - (clock() - began) / 1000,
        secondsPerIteration,
        secondsPerCheck,
        checks: probe ? plannedChecks : checksLeft(it, o.iterations, schedule.checkpointEvery),
        done: it,
        least: probe ? it + 1 : it,
        planned: probe ? planned.iterations : o.iterations,
      });
      if (iterations === o.iterations) return;
      const speed = `${(1 / secondsPerIteration).toFixed(2)} it/s`;
      if (probe || noted - iterations >= 0.05 * noted) {
        opts.onNote?.(probe
          ? `--time-limit ${+(opts.timeLimit! / 60).toFixed(2)} min: ${iterations} of ${o.iterations} iterations fit at this machine's ${speed}; decay start and checks scaled to match (config.json)`
          : `--time-limit: ${iterations} iterations fit now (${noted} before) at the last ${stepSeconds.length} steps' ${speed}`);
        noted = iterations;
      }
      if (probe) schedule.checkpointEvery = Math.max(1, Math.ceil(iterations / plannedChecks));
      o.decayStart = Math.round((planned.decayStart * iterations) / planned.iterations);
      o.iterations = iterations;
      if (probe) writeRunConfig(runDir, config);
      resized = !probe;
      opts.onShortened?.(iterations);
    };
    let lastCheck: HeldOutCheck | undefined;

    const validationInfo = keepBest && kept ? { pairs: validation!.images.length, inputPsnr: validation!.inputPsnr, kept } : undefined;
    opts.onStart?.({ config, start, trainItems: trainDs.keys.length, model, validation: validationInfo });
    const batch = o.batch ?? 1;
    let it = start;
    let saved = start;
    const rollBack = (problem: string) => {
      const back = guard.recover(problem, it, saved); // or throws: --on-nan stop
      it = back.meta.iteration;
      rng.data.setState((back.meta.rng as RngStates).data);
      rng.pool.setState((back.meta.rng as RngStates).pool);
      truncateLog(paths.log, it);
    };
    while (it < o.iterations && !stop) {
      const stepStarted = clock();
      const settledBefore = [rt().pipelineCount, trialsRecorded()];
      const lr = learningRate(o, it) * guard.lrScale;
      model.setLearningRate(lr);
      const data = drawBatch(sampler, rng.data, batch, channels);
      const realS = Tensor.fromArray(data.source, [batch, channels, size, size]);
      const realT = Tensor.fromArray(data.target, [batch, channels, size, size]);
      let losses: StepLosses;
      try {
        losses = await model.step(realS, realT);
      } finally {
        realS.dispose();
        realT.dispose();
      }
      it++;
      const problem = !Object.values(losses).every(Number.isFinite) ? `non-finite losses (${describeLosses(losses)})` : guard.due(it) ? await guard.check() : null;
      if (problem) {
        rollBack(problem);
        continue;
      }
      const stepEnded = clock();
      const settled = rt().pipelineCount === settledBefore[0] && trialsRecorded() === settledBefore[1];
      const entry: LogEntry = { iteration: it, losses, lr, seconds: elapsed() };
      const scheduled = it % schedule.checkpointEvery === 0 || it === o.iterations;
      let score: number | undefined;
      if (scheduled) {
        entry.heldOut = lastCheck = await checkHeldOut();
        if (entry.heldOut?.warning) opts.onWarning?.(`iteration ${it}: ${entry.heldOut.warning}`);
        if (keepBest) {
          score = await validate();
          entry.validation = { psnr: score, inputPsnr: validation!.inputPsnr, best: Math.max(score, kept?.psnr ?? -Infinity) };
        }
      }
      if (it % schedule.logEvery === 0 || scheduled) appendLog(paths.log, entry); // every check (the last iteration is one), whatever the cadences
      opts.onIteration?.(entry);
      if (schedule.sampleEvery > 0 && (it % schedule.sampleEvery === 0 || it === o.iterations)) await writePreview(it);
      if (scheduled || stop) {
        const late = guard.due(it) ? null : await guard.check();
        if (late) {
          rollBack(late);
          continue;
        }
        // Decided after the NaN check: a state rolled back from is never kept.
        const improved = !keepBest || (score !== undefined && Number.isFinite(score) && score > (kept?.psnr ?? -Infinity));
        if (keepBest && improved) kept = { ...kept, iteration: it, psnr: score! };
        if (resized) writeRunConfig(runDir, config);
        resized = false;
        await checkpoint(it, improved);
        saved = it;
      }
      if (opts.timeLimit !== undefined) {
        const ended = clock();
        if (it > 1 && settled) stepSeconds.push(((scheduled ? stepEnded : ended) - stepStarted) / 1000);
        if (stepSeconds.length > SPEED_WINDOW) stepSeconds.shift();
        if (scheduled) secondsPerCheck = (ended - stepEnded) / 1000;
        if (it > PROBE_ITERATIONS && stepSeconds.length > 0) fitToTimeLimit();
      }
    }
    if (lastCheck) writeFileAtomic(join(runDir, 'summary.json'), `${JSON.stringify({ iteration: it, heldOut: lastCheck, kept }, null, 1)}\n`);
    if (it === start) throw new TrainingInterrupted(resuming);
    return { iteration: it, interrupted: it < o.iterations, config, heldOut: lastCheck, kept };
  } catch (err) {
    undo?.();
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    model?.dispose();
    vgg?.dispose();
  }
}

/** Copies a trained corrector's weights into G_s (fine-tuning); the architectures must agree. */
/** The model a run's method trains, from its config (--method; absent: comi). */
function buildModel(config: RunConfig, terms: ContentTerm[], features: FeatureFn | null, random: () => number): GanModel {
  const m = config.model;
  const l = config.losses;
  const o = config.optim;
  const shared = { channels: m.channels, ngf: m.ngf, ndf: m.ndf, ganLoss: l.gan, adversarialWeight: l.adversarialWeight, lr: o.lr, beta1: o.beta1, beta2: o.beta2, seed: config.seed };
  if (m.method === 'pix2pix') return new Pix2Pix({ ...shared, downs: m.downs!, l1Weight: l.contentWeight });
  if (m.method === 'deblurgan') {
    if (!features) throw new Error('deblurgan needs VGG19 features for its perceptual loss');
    return new DeblurGan({ ...shared, blocks: m.blocks, perceptualWeight: l.contentWeight }, features);
  }
  return new CycleGan(
    {
      ...shared, blocks: m.blocks, upsampling: m.upsampling, globalResidual: m.globalResidual,
      contentWeight: l.contentWeight, contentTerms: terms, cycleWeight: l.cycleWeight, poolSize: o.poolSize ?? DEFAULT_POOL_SIZE,
    },
    features,
    random,
  );
}

async function initCorrector(model: GanModel, spec: string, channels: number): Promise<void> {
  const gS = model.gS;
  if (!(gS instanceof ResnetGenerator)) throw new Error('--init is not supported for pix2pix: its generator is a U-Net');
  const { generator, config } = await loadGenerator(spec);
  try {
    if (config.model.channels !== channels) {
      throw new Error(`--init ${spec} corrects ${config.model.channels}-channel images; this data has ${channels}-channel images`);
    }
    const want = gS.opts;
    const got = generator.opts;
    const keys = ['ngf', 'blocks', 'upsampling', 'globalResidual'] as const;
    const differ = keys.filter((k) => want[k] !== got[k]);
    if (differ.length) throw new Error(`--init ${spec} has ${differ.map((k) => `${k} ${got[k]}`).join(', ')}, but this run asks for ${differ.map((k) => `${k} ${want[k]}`).join(', ')}`);
    gS.loadStateDict(await generator.stateDict());
  } finally {
    generator.dispose();
  }
}

/** train --precision f16: both generators keep their feature maps as f16 (ResnetGenerator.mapStorage). */
function useF16Maps(model: GanModel): void {
  if (!(model instanceof CycleGan)) throw new Error('--precision f16 is not supported for this method: only the CycleGAN\'s ResNet generators keep f16 maps');
  for (const g of [model.gS, model.gT]) g.mapStorage = 'f16';
}

/** Zeroes G_s's last convolution: with the global residual the corrector then returns its input exactly, and the
 * first steps train that convolution alone on the features it is given (random or --init's). */
function startAtInput(model: GanModel): void {
  const gS = model.gS;
  if (!(gS instanceof ResnetGenerator) || !gS.opts.globalResidual) throw new Error('--start-at-input needs a ResNet generator with --global-residual');
  const { head } = gS.layers;
  for (const t of [head.weight, head.bias]) t?.writeData(new Float32Array(t.size));
}

/** The checkpoint to resume from; null for a run killed before its first one, which then starts again. */
function readCheckpointOf(runDir: string, note?: (message: string) => void) {
  const path = runPaths(runDir).checkpoint;
  if (!existsSync(path)) {
    note?.(`${runDir} has no checkpoint yet (stopped before its first one): training starts again from iteration 0 with its config.json`);
    return null;
  }
  return readCheckpoint(path);
}
