// `comi compare`: every method on the same held-out pairs under the same training budget, K repeats, with mean ± std,
// paired per-image differences (95 % CI), a breakdown by defocus and side-by-side crops. It resumes: finished runs
// are reused, scored images are not scored again.
import { existsSync, mkdirSync, readFileSync, appendFileSync } from 'node:fs';
import { join, resolve, extname, basename } from 'node:path';
import { num, parseFlags, str, ttaFlag, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { Progress } from './progress.js';
import { flagsForMethod, parseTrainFlags, resolveRlInput } from './train.js';
import { train } from '../train/trainer.js';
import { loadNetwork, readRunConfig, runPaths, TRAIN_METHODS, type TrainMethod } from '../train/run_folder.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { correctImage, correctWholeImage, runSettings } from '../correct/correct.js';
import { UnetGenerator } from '../model/unet.js';
import { readImage, writeImage, type Image } from '../data/image.js';
import { fitPairs, fitProgress, pairsOf, pairWindows, RL_FIT_PAIRS, type Windows } from './pairs.js';
import { scoreNormalized, normalizeTruth, normalizeMinMse, normalizedConventionNote } from '../eval/convention.js';
import { deconvolveImage, fitRichardsonLucy, gaussianPsf, opticsPsf, DEFAULT_ITERATIONS, EXTENDED_ITERATIONS_MAX, type Psf, type RichardsonLucyFit } from '../eval/deconvolve.js';
import type { Optics } from '../synth/psf.js';
import { summarize, SCORE_KEYS, type ScoreRow, type MethodSummary, type PairedDiff } from '../eval/compare_stats.js';
import { writeFileAtomic } from '../io/atomic.js';

const FLAGS: FlagSpec = {
  train: { type: 'string' },
  test: { type: 'string' },
  source: { type: 'string' },
  target: { type: 'string' },
  methods: { type: 'string' },
  repeats: { type: 'string' },
  bins: { type: 'string' },
  'rl-pairs': { type: 'string' },
  'rl-crop': { type: 'string' },
  'rl-psf': { type: 'string' },
  tta: { type: 'string' },
  register: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const METHODS = [...TRAIN_METHODS, 'rl', 'input'] as const;
const isTrained = (m: string): m is TrainMethod => (TRAIN_METHODS as readonly string[]).includes(m);
/** Tables list methods in this order: the paper's Table 2 rows, weakest baseline first. */
const ORDER = ['input', 'rl', 'cyclegan', 'deblurgan', 'pix2pix', 'comi'];
const WHOLE_IMAGE_SIDE = 2048;

const HELP = `usage: comi compare --train DIR --test DIR --out DIR [--methods comi,rl,input] [--repeats K] [-- TRAIN FLAGS…]

Compares correction methods on held-out pairs: DIR/blurred (--source) and DIR/clear (--target) with matching names.
  comi    trains K runs (seeds 0…K−1) on --train with the train flags after '--' (same budget for every repeat), and
          corrects the test images with each
  cyclegan, pix2pix, deblurgan   the baselines of the paper's Table 2 (train --method), trained the same way with the
          same flags, less those a method refuses (e.g. --blocks for pix2pix's U-Net), which compare.md lists
  rl      Richardson–Lucy with a Gaussian PSF whose σ and iteration count are fitted on training pairs
  input   the uncorrected images
Scores follow the normalized convention (${normalizedConventionNote()}).
Writes DIR/compare.md, compare.json, scores.jsonl and montage_*.png; a rerun reuses finished runs and scores.

  --methods LIST   default comi,rl,input; known: ${METHODS.join(',')}
  --model MODEL    comi is this trained corrector (a run folder or pretrained:NAME), not trained here: one repeat
  --repeats K      training repeats of each trained method (default 3)
  --bins EDGES     |z| bin edges for the breakdown, from names like FIELD_z-36.0.png (default 0,5,15,30,50)
  --rl-psf P       fitted: a Gaussian whose σ is fitted on training pairs (default) | matched: each image's own
                   defocus PSF from the synth.json that \`comi synth\` wrote beside --train and --test
  --rl-pairs N     training pairs the RL fit uses (default 12)      --rl-crop PX  their centre crop (default 256)
  --tta N          comi also averages N mirrored / turned corrections (2, 4 or 8), reported as comi+ttaN
  --register PX    score each pair (and fit RL) on the overlap of input and truth after the integer shift within
                   ±PX that best aligns them, the same window for every method: sideways drift of a focus series
                   then costs no method anything (default 0: the images as they are)
`;

/** Each image's defocus PSF from a synthetic set's manifest (synth.json: optics and per-image defocus). */
function matchedPsfs(root: string): (name: string) => Psf {
  const path = join(root, 'synth.json');
  if (!existsSync(path)) throw new UsageError(`--rl-psf matched needs ${path} (written by comi synth); use --rl-psf fitted for other data`);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  if (doc.optics.wavelengths.length !== 1) throw new UsageError(`--rl-psf matched supports one wavelength (fluorescence sets); ${path} has ${doc.optics.wavelengths.length}`);
  const optics: Optics = { na: doc.optics.na, index: doc.optics.index, pixelSize: doc.optics.pixelSize, wavelength: doc.optics.wavelengths[0] };
  const z = new Map<string, number>(doc.images.map((i: { name: string; defocus: number }) => [i.name, i.defocus]));
  return (name) => {
    if (!z.has(name)) throw new Error(`${path} has no defocus for ${name}`);
    return opticsPsf(optics, z.get(name)!);
  };
}


/** The iteration count with the best mean PSNR over the pairs, each deconvolved with its own PSF: the default
 *  counts, going on (doubling, up to EXTENDED_ITERATIONS_MAX) while the top one is best, as fitRichardsonLucy's do. */
export async function fitMatchedIterations(pairs: { name: string; source: Image; target: Image }[], psfOf: (name: string) => Psf,
  onTrial: (done: number, total: number, best: RichardsonLucyFit) => void): Promise<RichardsonLucyFit> {
  let best: RichardsonLucyFit = { sigma: NaN, iterations: 0, psnr: -Infinity };
  const counts = [...DEFAULT_ITERATIONS];
  for (let k = 0; k < counts.length; k++) {
    const iterations = counts[k];
    let sum = 0;
    for (const p of pairs) {
      const u = await deconvolveImage(p.source, psfOf(p.name), { iterations, dtype: 'float32' });
      sum += scoreNormalized(u.data as Float32Array, p.target).psnr;
    }
    if (sum / pairs.length > best.psnr) best = { sigma: NaN, iterations, psnr: sum / pairs.length };
    if (k === counts.length - 1 && best.iterations === iterations && iterations * 2 <= EXTENDED_ITERATIONS_MAX) counts.push(iterations * 2);
    onTrial(k + 1, counts.length, best);
  }
  return best;
}

/** Which check each run's generator.safetensors holds under train --keep best (summary.json), as a sentence. */
function keptNote(dirs: string[]): string {
  const kept = dirs.map((d) => {
    const path = join(d, 'summary.json');
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')).kept?.iteration as number | undefined) : undefined;
  });
  if (kept.every((k) => k === undefined)) return '';
  return ` Generators kept (--keep best: the best check on the training pairs held out from training): iteration ${kept.map((k) => k ?? 'last').join(', ')}.`;
}

/** "N iterations each", or each run's count where train --time-limit gave them different lengths. */
function iterationsNote(dirs: string[]): string {
  const counts = dirs.map((d) => readRunConfig(d).optim.iterations);
  return counts.every((n) => n === counts[0]) ? `${counts[0]} iterations each` : `${counts.join(' / ')} iterations (--time-limit)`;
}

function runFinished(dir: string): boolean {
  const p = runPaths(dir);
  if (!existsSync(p.generator) || !existsSync(p.checkpoint)) return false;
  return readCheckpoint(p.checkpoint).meta.iteration >= readRunConfig(dir).optim.iterations;
}

/** Side by side: input | each method | truth, the same 256² window (where the truth varies most), in truth units. */
async function writeMontage(path: string, truth: Image, panels: Float32Array[]): Promise<void> {
  const t = normalizeTruth(truth);
  const C = truth.channels;
  const side = Math.min(256, truth.width, truth.height);
  let best = { x: 0, y: 0, v: -1 };
  for (let y = 0; y + side <= truth.height; y += side >> 1) {
    for (let x = 0; x + side <= truth.width; x += side >> 1) {
      let s = 0;
      let s2 = 0;
      for (let j = 0; j < side; j += 4) for (let i = 0; i < side; i += 4) { const v = t[((y + j) * truth.width + x + i) * C]; s += v; s2 += v * v; }
      const n = (side / 4) ** 2;
      const v = s2 / n - (s / n) ** 2;
      if (v > best.v) best = { x, y, v };
    }
  }
  const all = [...panels.map((p) => normalizeMinMse(p, t)), t];
  const W = all.length * side + (all.length - 1) * 4;
  const data = new Uint8Array(W * side * C).fill(255);
  all.forEach((p, k) => {
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < C; c++) {
      const v = p[((best.y + y) * truth.width + best.x + x) * C + c];
      data[(y * W + k * (side + 4) + x) * C + c] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
  });
  await writeImage(path, { width: W, height: side, channels: C, bitDepth: 8, data });
}

const fmt = (v: number, k: string) => (Number.isFinite(v) ? v.toFixed(k === 'psnr' ? 2 : 4) : '–');

function markdown(summary: MethodSummary[], diffs: PairedDiff[], info: string[]): string {
  const lines = [...info, '', '| |z| bin | method | images | repeats | PSNR (dB) | SSIM | PCC |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const s of summary) {
    lines.push(`| ${s.bin} | ${s.method} | ${s.images} | ${s.repeats} | ${SCORE_KEYS.map((k) => `${fmt(s.mean[k], k)} ± ${fmt(s.std[k], k)}`).join(' | ')} |`);
  }
  lines.push('', 'Paired per-image differences (method − baseline), mean and 95 % CI (Student t over images):', '',
    '| |z| bin | method − baseline | images | ΔPSNR (dB) | ΔSSIM | ΔPCC |', '|---|---|---:|---:|---:|---:|');
  for (const d of diffs) {
    if (d.method === 'input') continue;
    lines.push(`| ${d.bin} | ${d.method} − ${d.baseline} | ${d.images} | ${SCORE_KEYS.map((k) => `${fmt(d.mean[k], k)} [${fmt(d.lo[k], k)}, ${fmt(d.hi[k], k)}]`).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** The paper's layouts: Table 2 (one row per method, all test images) and Table 3 (one column per |z| bin, one
 * table per score), both mean ± std over repeats. */
export function paperTables(summary: MethodSummary[], order: string[]): string {
  const cell = (s: MethodSummary | undefined, k: string) => (s ? `${fmt(s.mean[k as keyof typeof s.mean], k)} ± ${fmt(s.std[k as keyof typeof s.std], k)}` : '–');
  const find = (m: string, bin: string) => summary.find((s) => s.method === m && s.bin === bin);
  const lines = ['', '## Table 2 layout (all held-out images)', '', '| method | PSNR (dB) | SSIM | PCC |', '|---|---:|---:|---:|'];
  for (const m of order) lines.push(`| ${m} | ${SCORE_KEYS.map((k) => cell(find(m, 'all'), k)).join(' | ')} |`);
  const bins = [...new Set(summary.map((s) => s.bin))].filter((b) => b !== 'all');
  lines.push('', '## Table 3 layout (by |z| bin)', '');
  if (bins.length === 0) lines.push('The test image names carry no defocus (…_z<µm>.png): no breakdown.');
  for (const k of SCORE_KEYS) {
    if (bins.length === 0) break;
    lines.push(`${{ psnr: 'PSNR (dB)', ssim: 'SSIM', pcc: 'PCC' }[k]}:`, '', `| method | ${bins.map((b) => `\\|z\\| ${b}`).join(' | ')} |`, `|---|${bins.map(() => '---:').join('|')}|`);
    for (const m of order) lines.push(`| ${m} | ${bins.map((b) => cell(find(m, b), k)).join(' | ')} |`);
    lines.push('');
  }
  return lines.join('\n') + '\n';
}

export async function compareCommand(argv: string[]): Promise<{ summary: MethodSummary[]; diffs: PairedDiff[] } | null> {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const trainFlags = split < 0 ? [] : argv.slice(split + 1);
  const { values } = parseFlags(own, FLAGS);
  if (values.help) {
    process.stdout.write(HELP);
    return null;
  }
  const trainDir = str(values, 'train');
  const testDir = str(values, 'test');
  const outArg = str(values, 'out');
  if (!trainDir || !testDir || !outArg) throw new UsageError('--train DIR, --test DIR and --out DIR are required');
  const out = resolve(outArg);
  const source = str(values, 'source', 'blurred')!;
  const target = str(values, 'target', 'clear')!;
  const methods = str(values, 'methods', 'comi,rl,input')!.split(',').map((m) => m.trim());
  const unknown = methods.find((m) => !(METHODS as readonly string[]).includes(m));
  if (unknown) throw new UsageError(`--methods: unknown method '${unknown}'; known: ${METHODS.join(', ')}`);
  const given = str(values, 'model');
  const repeats = given ? 1 : num(values, 'repeats', 3, { int: true, min: 1, max: 20 });
  if (given && trainFlags.length) throw new UsageError('train flags after -- have no effect with --model (nothing is trained)');
  if (given && methods.some((m) => isTrained(m) && m !== 'comi')) throw new UsageError('--model replaces comi\'s training only; with baselines to train, leave it out');
  const edges = str(values, 'bins', '0,5,15,30,50')!.split(',').map(Number);
  if (edges.some((e, i) => !Number.isFinite(e) || (i > 0 && e <= edges[i - 1]))) throw new UsageError(`--bins must be ascending numbers, got '${values.bins}'`);
  const rlPairs = num(values, 'rl-pairs', RL_FIT_PAIRS.count, { int: true, min: 1 });
  const rlCrop = num(values, 'rl-crop', RL_FIT_PAIRS.crop, { int: true, min: 16 });
  const rlPsf = str(values, 'rl-psf', 'fitted')!;
  const tta = ttaFlag(values);
  if (rlPsf !== 'fitted' && rlPsf !== 'matched') throw new UsageError(`--rl-psf must be fitted or matched, got '${rlPsf}'`);
  const testPsf = rlPsf === 'matched' && methods.includes('rl') ? matchedPsfs(resolve(testDir)) : null;
  const testPairs = pairsOf(resolve(testDir), source, target);
  const register = num(values, 'register', 0, { int: true, min: 0, max: 256 });
  if (register > 0 && testPsf) throw new UsageError('--register with --rl-psf matched: synthetic pairs are aligned by construction');
  // Scores and the RL fit made under one registration radius are never mixed with another's.
  const registrationPath = join(out, 'registration.json');
  const scoresPath = join(out, 'scores.jsonl');
  const scoredWith = existsSync(registrationPath) ? JSON.parse(readFileSync(registrationPath, 'utf8')).radius
    : existsSync(scoresPath) || existsSync(join(out, 'rl-fit.json')) ? 0 : register;
  if (scoredWith !== register) throw new UsageError(`${out} holds scores made with --register ${scoredWith}; give that, or another --out`);
  mkdirSync(join(out, 'runs'), { recursive: true });
  if (register > 0 && !existsSync(registrationPath)) writeFileAtomic(registrationPath, JSON.stringify({ radius: register, shifts: {} }) + '\n');
  const shifts: Record<string, [number, number]> = existsSync(registrationPath) ? JSON.parse(readFileSync(registrationPath, 'utf8')).shifts : {};
  // Flags every repeat shares; each repeat adds its seed and run folder.
  const baseTrain = ['--data', resolve(trainDir), '--layout', 'paired', '--source', source, '--target', target, ...trainFlags];
  for (const f of ['--seed', '--out', '--resume', '--data', '--layout']) {
    if (trainFlags.includes(f)) throw new UsageError(`train flag ${f} is set by compare (runs are seeded 0…K−1 under ${out}/runs)`);
  }
  // --rl-input fit is fitted once for every repeat and method (and kept for a rerun), not once per run.
  const rlInputAt = baseTrain.indexOf('--rl-input');
  let stageFit: (RichardsonLucyFit & { register?: number; bin?: number }) | null = null;
  if (rlInputAt >= 0 && baseTrain[rlInputAt + 1] === 'fit' && !given) {
    const fitPath = join(out, 'rl-input-fit.json');
    if (!existsSync(fitPath)) {
      const probe = parseTrainFlags([...baseTrain, '--out', join(out, 'runs', 'rl-input-probe')])!;
      const fitting = fitProgress('fitting the RL input stage (--rl-input fit) on training pairs');
      const fit = await resolveRlInput(probe, fitting.onTrial);
      fitting.done();
      if (fit?.autoBin) process.stderr.write(`note: --bin auto: the blur fits a Gaussian of σ ${fit.autoBin.sigma.toFixed(2)} px; every run bins images ${fit.autoBin.factor}×${fit.autoBin.factor}\n`);
      const { autoBin: _, ...stage } = fit!;
      writeFileAtomic(fitPath, JSON.stringify({ ...stage, register: probe.config!.data.register ?? 0, bin: probe.config!.data.bin ?? 1 }, null, 1) + '\n');
    }
    const fit: RichardsonLucyFit & { register?: number; bin?: number } = JSON.parse(readFileSync(fitPath, 'utf8'));
    baseTrain[rlInputAt + 1] = `${fit.sigma},${fit.iterations}`;
    const binAt = baseTrain.indexOf('--bin');
    if (binAt >= 0 && baseTrain[binAt + 1] === 'auto') baseTrain[binAt + 1] = String(fit.bin ?? 1);
    process.stderr.write(`note: --rl-input fit: σ ${fit.sigma.toFixed(3)} px, ${fit.iterations} iterations for every run (${fitPath})\n`);
    stageFit = fit;
  }

  // Trained methods first: their runs are the budgeted part, and a finished run is reused.
  const runOf = (method: string, k: number) => (method === 'comi' && given) || join(out, 'runs', `${method}-${k}`);
  const runsOf = (method: string) => Array.from({ length: repeats }, (_, k) => runOf(method, k));
  const dropped = new Map<string, string[]>();
  for (const method of methods.filter(isTrained)) {
    if (given) break;
    const flags = flagsForMethod(method, baseTrain);
    if (flags.dropped.length) dropped.set(method, flags.dropped);
    for (let k = 0; k < repeats; k++) {
      const dir = runOf(method, k);
      if (runFinished(dir)) continue;
      const resume = existsSync(runPaths(dir).checkpoint);
      const parsed = parseTrainFlags(resume ? ['--resume', dir] : ['--method', method, ...flags.argv, '--seed', String(k), '--out', dir])!;
      process.stderr.write(`${resume ? 'resuming' : 'training'} ${method} repeat ${k + 1}/${repeats} → ${dir}\n`);
      let progress: Progress | null = null;
      await train({
        runDir: dir, config: parsed.config, vggSource: parsed.vggSource, vggLayers: parsed.vggLayers, iterations: parsed.iterations,
        timeLimit: parsed.timeLimit, schedule: { ...parsed.schedule, sampleEvery: 0 },
        onNote: (m) => process.stderr.write(`note: ${m}\n`),
        onWarning: (m) => process.stderr.write(`\nwarning: ${m}\n`),
        onStart: ({ config, start }) => (progress = new Progress(`${method} ${k + 1}/${repeats}`, config.optim.iterations, start)),
        onIteration: (e) => progress!.update(e.iteration),
        onShortened: (iterations) => progress?.setTotal(iterations),
      });
      (progress as Progress | null)?.done();
    }
  }

  // rl: a Gaussian σ and iteration count fitted on training pairs, or (matched) each image's own PSF and the
  // iteration count that scores best on the training pairs with theirs.
  let rl: RichardsonLucyFit | null = null;
  if (methods.includes('rl')) {
    const fitPath = join(out, 'rl-fit.json');
    if (existsSync(fitPath)) rl = JSON.parse(readFileSync(fitPath, 'utf8'));
    else if (!testPsf && stageFit?.register === register && (stageFit.bin ?? 1) === 1 && rlPairs === RL_FIT_PAIRS.count && rlCrop === RL_FIT_PAIRS.crop) {
      // The stage's fit scored the same pairs the same way (unbinned): the RL row is that fit.
      rl = { sigma: stageFit.sigma, iterations: stageFit.iterations, psnr: stageFit.psnr };
      writeFileAtomic(fitPath, JSON.stringify(rl, null, 1) + '\n');
    } else {
      const pairs = await fitPairs(resolve(trainDir), source, target, { count: rlPairs, crop: testPsf ? null : rlCrop, register });
      const fitting = fitProgress(`fitting RL ${testPsf ? 'iterations (matched PSFs)' : 'PSF σ'} on training pairs`, !testPsf);
      rl = testPsf ? await fitMatchedIterations(pairs, matchedPsfs(resolve(trainDir)), fitting.onTrial) : await fitRichardsonLucy(pairs, { onTrial: fitting.onTrial });
      fitting.done();
      writeFileAtomic(fitPath, JSON.stringify(rl, null, 1) + '\n');
    }
  }

  // Scores: one JSON line per (method, repeat, image); lines already there are not recomputed.
  const rows: ScoreRow[] = existsSync(scoresPath) ? readFileSync(scoresPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const have = new Set(rows.map((r) => `${r.method}/${r.repeat}/${r.image}`));
  const jobs: { method: string; repeat: number }[] = [];
  for (const m of methods) for (let k = 0; k < (isTrained(m) ? repeats : 1); k++) jobs.push({ method: m, repeat: k });
  // The test-time-augmented correction is its own row, so that both sit in one table and cached scores never mix.
  if (tta > 1 && methods.includes('comi')) for (let k = 0; k < repeats; k++) jobs.push({ method: `comi+tta${tta}`, repeat: k });
  const progress = new Progress('scoring held-out pairs', jobs.length * testPairs.length);
  let done = 0;
  const montageFor = new Set(testPairs.filter((_, i) => i % Math.max(1, Math.floor(testPairs.length / 4)) === 0).slice(0, 4).map((p) => p.name));
  // Repeat 0's predictions of a few images, and their truths, for the side-by-side montages.
  const montagePanels = new Map<string, Float32Array>();
  const montageTruths = new Map<string, Image>();
  // A pair's registration is the same for every method and repeat: found once.
  const windowsOf = new Map<string, Windows>();
  for (const job of jobs) {
    const augmented = job.method.startsWith('comi+tta');
    const trained = augmented ? 'comi' : job.method;
    const gen = isTrained(trained) ? await loadNetwork(runOf(trained, job.repeat)) : null;
    try {
      for (const p of testPairs) {
        const key = `${job.method}/${job.repeat}/${p.name}`;
        const wantMontage = montageFor.has(p.name) && job.repeat === 0;
        if (have.has(key) && !wantMontage) {
          progress.update(++done);
          continue;
        }
        const input = await readImage(p.source);
        const truth = await readImage(p.target);
        let windows = windowsOf.get(p.name);
        if (!windows) {
          windows = pairWindows(input, truth, register);
          windowsOf.set(p.name, windows);
          shifts[p.name] = [windows.dx, windows.dy];
        }
        let pred: Float32Array;
        if (job.method === 'input') pred = Float32Array.from(input.data);
        else if (job.method === 'rl') {
          const psf = testPsf ? testPsf(p.name) : gaussianPsf(rl!.sigma);
          pred = (await deconvolveImage(input, psf, { iterations: rl!.iterations, dtype: 'float32' })).data as Float32Array;
        }
        else if (gen!.generator instanceof UnetGenerator) {
          pred = (await correctWholeImage(gen!.generator, input, runSettings(gen!.config, { dtype: 'float32' }))).image.data as Float32Array;
        } else {
          // An image up to WHOLE_IMAGE_SIDE is one tile: one pass, with the whole image's norm statistics (exact).
          const side = Math.max(input.width, input.height);
          const whole = side <= WHOLE_IMAGE_SIDE ? { tile: Math.max(256, Math.ceil(side / 4) * 4), stats: 'tile' as const } : {};
          pred = (await correctImage(gen!.generator, input, runSettings(gen!.config, { dtype: 'float32', tta: augmented ? tta : 1, ...whole }))).image.data as Float32Array;
        }
        if (wantMontage) {
          montagePanels.set(`${p.name}/${job.method}`, pred);
          montageTruths.set(p.name, truth);
        }
        if (!have.has(key)) {
          const predImage: Image = { width: input.width, height: input.height, channels: input.channels, bitDepth: 32, data: pred };
          const s = scoreNormalized(windows.input(predImage).data as Float32Array, windows.truth(truth));
          const row: ScoreRow = { method: job.method, repeat: job.repeat, image: p.name, scores: { psnr: s.psnr, ssim: s.ssim, pcc: s.pcc } };
          rows.push(row);
          have.add(key);
          appendFileSync(scoresPath, JSON.stringify(row) + '\n');
        }
        progress.update(++done);
      }
    } finally {
      gen?.generator.dispose();
    }
  }
  progress.done();
  if (register > 0) writeFileAtomic(registrationPath, JSON.stringify({ radius: register, shifts }, null, 1) + '\n');
  const order = [...ORDER, `comi+tta${tta}`].filter((m) => jobs.some((j) => j.method === m));
  for (const name of montageFor) {
    const panels = order.map((m) => montagePanels.get(`${name}/${m}`)!);
    await writeMontage(join(out, `montage_${basename(name, extname(name))}.png`), montageTruths.get(name)!, panels);
  }

  const { summary, diffs } = summarize(rows, order, edges);
  const trainCfg = methods.includes('comi') ? readRunConfig(runOf('comi', 0)) : null;
  const baselines = methods.filter((m) => isTrained(m) && m !== 'comi').map((m) => {
    const cfg = readRunConfig(runOf(m, 0));
    const off = dropped.get(m);
    return `${m}: ${repeats} repeats, \`${cfg.argv.join(' ')}\` (seed 0…${repeats - 1}); ${iterationsNote(runsOf(m))}${off ? ` (flags it refuses, left out: ${off.join(' ')})` : ''}.${keptNote(runsOf(m))}`;
  });
  const info = [
    `# comi compare: ${testPairs.length} held-out pairs (${resolve(testDir)})`,
    '',
    `Scores: ${normalizedConventionNote()}. Mean ± std over repeats of each repeat's mean over images.`,
    register > 0 ? `Registered (--register ${register}): each pair scored on the overlap of input and truth after the integer shift that best aligns them (${Object.values(shifts).filter(([x, y]) => x || y).length} of ${testPairs.length} shifted, registration.json); RL fitted on registered training pairs.` : '',
    trainCfg ? (given ? `comi: the trained corrector ${given} (\`${trainCfg.argv.join(' ')}\`, ${trainCfg.optim.iterations} iterations), not trained on --train.`
      : `comi: ${repeats} repeats, \`${trainCfg.argv.join(' ')}\` (seed 0…${repeats - 1}); ${iterationsNote(runsOf('comi'))}.${keptNote(runsOf('comi'))}`) : '',
    ...baselines,
    rl ? `rl: Richardson–Lucy, ${testPsf ? 'each image\'s own defocus PSF (matched, from synth.json)' : `Gaussian PSF σ ${rl.sigma.toFixed(2)} px`}, ${rl.iterations} iterations, fitted on training pairs (mean ${rl.psnr.toFixed(2)} dB there).` : '',
    `Montages (montage_*.png): ${order.join(' | ')} | truth, the same window, each mapped onto the truth by least squares.`,
  ].filter((l) => l !== '');
  writeFileAtomic(join(out, 'compare.md'), markdown(summary, diffs, info) + paperTables(summary, order));
  writeFileAtomic(join(out, 'compare.json'), JSON.stringify({ methods: order, repeats, bins: edges, register, rl, summary, diffs }, null, 1) + '\n');
  process.stdout.write(markdown(summary.filter((s) => s.bin === 'all'), diffs.filter((d) => d.bin === 'all'), []) + `full tables: ${join(out, 'compare.md')}\n`);
  return { summary, diffs };
}
