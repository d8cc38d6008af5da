// `comi train` / `node train.js`: trains the COMI CycleGAN into a run folder, with progress, checkpoints and resume.
import { resolve } from 'node:path';
import { choice, num, parseFlags, percentilesFlag, str, type FlagSpec, type Parsed } from './args.js';
import { UsageError } from './errors.js';
import { applyMaxPixels, MAX_PIXELS_FLAG, maxPixelsHelp } from './limits_flag.js';
import { Progress } from './progress.js';
import { readRunConfig, RUN_FORMAT, RUN_VERSION, TRAIN_METHODS, type RunConfig, type TrainMethod } from '../train/run_folder.js';
import { train, TrainingInterrupted, DEFAULT_POOL_SIZE, PROBE_ITERATIONS, SPEED_WINDOW, TIME_LIMIT_ON_RESUME, type TrainSchedule, type TrainResult } from '../train/trainer.js';
import { VGG_LAYERS, VGG_SOURCES, type VggSource } from '../model/vgg19.js';
import { DEBLURGAN_LAYER } from '../model/deblurgan.js';
import type { Layout } from '../data/dataset.js';
import { DEFAULT_PERCENTILES } from '../data/normalize.js';
import type { StepLosses } from '../model/cyclegan.js';
import { parseContentTerms, RECOMMENDED_CONTENT, type ContentTerm } from '../model/content_loss.js';
import type { RlInput } from '../model/richardson_lucy.js';
import { fitRichardsonLucy, type RichardsonLucyFit } from '../eval/deconvolve.js';
import { fitPairs, fitProgress, RL_FIT_PAIRS } from './pairs.js';
import { DEFAULT_NAN_CHECK_EVERY, ON_NAN } from '../train/guards.js';
import { KEEP, VALIDATION_PAIRS, VALIDATION_SIDE } from '../train/validation.js';

const FLAGS: FlagSpec = {
  method: { type: 'string' },
  data: { type: 'string' },
  layout: { type: 'string' },
  source: { type: 'string' },
  target: { type: 'string' },
  'in-focus': { type: 'string' },
  planes: { type: 'string' },
  size: { type: 'string' },
  normalization: { type: 'string' },
  crops: { type: 'string' },
  'pair-scale': { type: 'string' },
  register: { type: 'string' },
  bin: { type: 'string' },
  'rl-input': { type: 'string' },
  percentiles: { type: 'string' },
  iters: { type: 'string' },
  'decay-start': { type: 'string' },
  batch: { type: 'string' },
  'pool-size': { type: 'string' },
  lr: { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
  ngf: { type: 'string' },
  ndf: { type: 'string' },
  blocks: { type: 'string' },
  upsampling: { type: 'string' },
  'global-residual': { type: 'boolean' },
  gan: { type: 'string' },
  'adversarial-weight': { type: 'string' },
  'content-weight': { type: 'string' },
  content: { type: 'string' },
  'cycle-weight': { type: 'string' },
  vgg: { type: 'string' },
  'vgg-layers': { type: 'string' },
  seed: { type: 'string' },
  init: { type: 'string' },
  'start-at-input': { type: 'boolean' },
  precision: { type: 'string' },
  out: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'time-limit': { type: 'string' },
  'sample-every': { type: 'string' },
  'log-every': { type: 'string' },
  'nan-check-every': { type: 'string' },
  'on-nan': { type: 'string' },
  keep: { type: 'string' },
  resume: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...MAX_PIXELS_FLAG,
};

/** Flags that only steer this session; a resumed run may change them. Every other flag is fixed by config.json. */
const SESSION_FLAGS = ['out', 'resume', 'help', 'iters', 'checkpoint-every', 'sample-every', 'log-every', 'nan-check-every', 'on-nan', 'keep', 'max-pixels'];

export const HELP = `usage: node train.js --data DIR --layout paired|zstack|unpaired [options] --out RUN
       node train.js --resume RUN [--iters N]

Trains the COMI CycleGAN (G_s: out-of-focus → in-focus, G_t, D_t, D_s), or a baseline (--method), and writes the run folder RUN:
config.json, split.json (seeded 80/20), log.jsonl, samples/ (input | output | target), checkpoints/latest.safetensors
and generator.safetensors (the corrector, for \`comi correct --model RUN\`). Ctrl-C saves a checkpoint and stops.

data
  --data DIR              dataset folder
  --layout L              paired: --source and --target folders with matching file names
                          zstack: --in-focus plane folder and --planes input folders (default: all others),
                          or one multi-page TIFF per field of view in DIR with --in-focus and --planes as page numbers
                          unpaired: --source and --target folders, no pairing (content loss off)
  --source A --target B   out-of-focus and in-focus sub-folders of DIR (paired, unpaired)
  --in-focus Z --planes Z1,Z2,…   z-stack folders (e.g. --in-focus Z007 --planes Z004,Z005,Z006)
  --size PX               square training crop, a multiple of 4, ≥ 32 (default 256)
  --crops C               structured: redraw paired crops that show less variance than their image (skips empty
                          background, default) | any
  --pair-scale S          shared: a pair's in-focus target is mapped with its blurred image's normalisation, as
                          correction maps input and output (default) | separate: each image by its own
  --rl-input fit|σ,N      deconvolve every input by Richardson–Lucy (Gaussian PSF of σ px, N iterations) before the
                          network, in training and in correction; fit: σ and N that score best on 12 training pairs
                          (paired layout); the network then learns what RL leaves (default: off)
  --register PX           align each pair by the integer shift (within ±PX) that best correlates them, cropping both
                          to their overlap: for focus series that drift sideways (default 0: off)
  --bin N|auto            train on images binned N×N (the mean of each block) and correct that way, upsampling the
                          output back to the image's size: a blur many pixels wide then fits the generator's receptive
                          field and the crops (--size and --register count binned pixels); auto (with --rl-input
                          fit): the largest N that leaves the fitted blur σ ≥ 1.5 binned px and images two crops wide
                          (default 1: off)
  --normalization M       auto (8-bit /255, 16-bit and float by percentiles) | 8bit | 16bit-range | percentile
  --percentiles LOW,HIGH  percentile normalisation bounds (default ${DEFAULT_PERCENTILES.pLow},${DEFAULT_PERCENTILES.pHigh})
method
  --method M              comi (default) | cyclegan: the paper's loss without its content term | pix2pix: U-Net with
                          BatchNorm and dropout, conditional PatchGAN on the pair, GAN (default log) + λ·L1 (--content-weight,
                          default 100) | deblurgan: ResNet generator with global residual, LSGAN + λ·MSE of VGG19 conv3_3
                          features (--content-weight, default 100; DeblurGAN's LSGAN option, not its WGAN-GP default)
model and losses
  --ngf N --ndf N         generator / discriminator width (default 64, 64)
  --blocks N              residual blocks (default 9)
  --upsampling U          transpose (paper) | resize (nearest ×2 + conv, no checkerboard) (default transpose)
  --global-residual       output tanh(G(x)) + x (the COMI code's variant)
  --gan G                 lsgan (least squares, default) | log (the paper's log-loss)
  --adversarial-weight λ1 --content-weight λ2 --cycle-weight λ3   (default 1, 1, 0.001)
  --content T[+T…]        content loss terms: vgg (the paper's VGG19 features), l1, mse, ssim, e.g. l1+ssim; default: vgg when
                          the VGG19 weights are cached, else ${RECOMMENDED_CONTENT.join('+')} (the recommended recipe without them)
                          a weight of 0 removes its networks: --cycle-weight 0 trains G_s alone (no G_t, D_s), and with
                          --adversarial-weight 0 too it is plain supervised training on the content loss
  --vgg W                 content-loss VGG19 weights: keras (default) | torchvision | random
  --vgg-layers L1,L2,…    VGG19 feature maps compared (default relu3_3, the paper's block3_conv3; relu1_2 is cheapest)
optimisation
  --iters N               iterations (default 100000); on --resume, a larger N trains longer
  --decay-start N         learning rate falls linearly to 0 from here (default iters/2)
  --batch N               images per iteration (default 1)
  --pool-size N           past fakes the discriminators see (CycleGAN's image pool; default 50, 0: none)
  --lr R --beta1 B --beta2 B   Adam (default 1e-4, 0.5, 0.99)
  --seed N                initial weights, split, crops and augmentation (default 0)
  --init MODEL            start G_s from a trained corrector (a run folder, or pretrained:fluorescence); its
                          architecture and intensity mapping are used unless --ngf/--blocks/--upsampling/
                          --global-residual/--normalization/--percentiles say otherwise
  --start-at-input        zero G_s's last convolution, so that with --global-residual the corrector starts as its
                          input (with --rl-input, as the RL stage) and learns only a correction on top of it
  --precision f32|f16     storage of the generators' feature maps (default f32). f16 (needs the adapter's shader-f16)
                          halves the maps the convolutions read and backward keeps; all arithmetic, weights, Adam
                          and gradients stay f32 (no loss scaling needed). comi and cyclegan only
run
  --out RUN               run folder (new or empty)
  --resume                continue the run in RUN (also: --resume RUN) exactly where its checkpoint left off
  --time-limit MIN        size a new run to end within MIN minutes of its start (loading included): after ${PROBE_ITERATIONS}
                          steps it is shortened to the iterations that fit at their speed (steps that compile or
                          autotune kernels left out), its decay start and checks scaled with it, and shortened again
                          whenever the last ${SPEED_WINDOW} steps ran slower
                          (config.json records the result; --iters is the most it trains)
  --checkpoint-every N    default 2500;  --sample-every N  default 1000 (0: never);  --log-every N  default 10
                          (a resumed run keeps the values it last ran with unless they are given again)
  --nan-check-every N     check weights and Adam moments for NaN/Inf every N iterations (default ${DEFAULT_NAN_CHECK_EVERY})
  --on-nan rollback|stop  on NaN/Inf: return to the last good state with half the learning rate (default), or stop
  --keep best|last        generator.safetensors: the checkpoint that scores best (PSNR, evaluation convention) on up
                          to ${VALIDATION_PAIRS} held-out pairs (central windows ≤ ${VALIDATION_SIDE}²), iteration 0 included
                          (default), or the last checkpoint; without held-out pairs (unpaired data) the last.
                          Training continues from the last checkpoint either way
${maxPixelsHelp(26)}
`;

const DEFAULTS = { size: 256, iters: 100_000, ngf: 64, ndf: 64, blocks: 9, lr: 1e-4, beta1: 0.5, beta2: 0.99, seed: 0 };

export interface ParsedTrain {
  runDir: string;
  resume: boolean;
  /** New run only. */
  config?: RunConfig;
  vggSource?: VggSource;
  vggLayers?: string[];
  /** Resume only, when --iters is given. */
  iterations?: number;
  /** New run only: --time-limit in seconds. */
  timeLimit?: number;
  schedule: TrainSchedule;
  /** --rl-input fit: config.model.rlInput is to be fitted on the data (resolveRlInput) before training. */
  fitRlInput?: boolean;
  /** --bin auto: config.data.bin is chosen from that fit's σ (resolveRlInput). */
  autoBin?: boolean;
}

/** --rl-input: 'fit', or SIGMA,ITERATIONS. */
function rlInputFlag(raw: string | undefined): RlInput | 'fit' | null {
  if (raw === undefined) return null;
  if (raw === 'fit') return 'fit';
  const [sigma, iterations, extra] = raw.split(',').map(Number);
  if (extra !== undefined || !(sigma > 0 && sigma <= 100) || !(Number.isInteger(iterations) && iterations >= 1 && iterations <= 1000)) {
    throw new UsageError(`--rl-input takes fit or SIGMA,ITERATIONS (σ in (0, 100] px, 1–1000 iterations), got '${raw}'`);
  }
  return { sigma, iterations };
}

/** --bin auto's target: the blur's Gaussian σ in binned pixels is at least this. At 1.5 px a Gaussian passes
 *  < 1e-4 of the binned grid's Nyquist frequency, so the binning itself loses nothing the blur had left; the wafer
 *  series' blur (σ 6.6 px) lands at 4×4 and σ 1.66 px, where the recipe was measured (docs/results.md). */
const AUTO_BIN_SIGMA = 1.5;

/** --bin auto: the largest factor that keeps σ ≥ AUTO_BIN_SIGMA binned pixels and leaves the smallest image at
 *  least two crops wide. */
export function autoBin(sigma: number, minSide: number, size: number): number {
  return Math.max(1, Math.min(Math.floor(sigma / AUTO_BIN_SIGMA), Math.floor(minSide / (2 * size))));
}

/** Fits --rl-input fit's σ and iteration count on the run's pairs exactly as compare fits its RL row (intensities
 *  as `comi deconvolve` maps them: 8-bit /255, others by percentiles) and records them. In the training run's own
 *  percentile mapping the fit surface of the wafer series is flat and lands on σ 0.5 px, a stage that does nothing.
 *  With --bin auto the factor follows from that fit (autoBin), and where it is > 1 the stage is fitted again on the
 *  binned pairs, where it runs. */
export async function resolveRlInput(parsed: ParsedTrain, onTrial?: (done: number, total: number, best: RichardsonLucyFit) => void): Promise<(RichardsonLucyFit & { autoBin?: { factor: number; sigma: number } }) | null> {
  if (!parsed.fitRlInput) return null;
  const d = parsed.config!.data;
  const pairsAt = (bin: number) => fitPairs(d.root, d.source!, d.target!, { ...RL_FIT_PAIRS, register: d.register ?? 0, bin });
  const pairs = await pairsAt(d.bin ?? 1);
  let fit: RichardsonLucyFit & { autoBin?: { factor: number; sigma: number } } = await fitRichardsonLucy(pairs, { onTrial });
  if (parsed.autoBin) {
    const factor = autoBin(fit.sigma, Math.min(...pairs.map((p) => p.side)), d.size);
    if (factor > 1) {
      d.bin = factor;
      fit = { ...(await fitRichardsonLucy(await pairsAt(factor), { onTrial })), autoBin: { factor, sigma: fit.sigma } };
    }
    parsed.autoBin = false;
  }
  parsed.config!.model.rlInput = { sigma: fit.sigma, iterations: fit.iterations };
  parsed.fitRlInput = false;
  return fit;
}

function list(raw: string | undefined, flag: string, what = 'folder names'): string[] | null {
  if (raw === undefined) return null;
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--${flag} takes a comma-separated list of ${what}, got '${raw}'`);
  return items;
}

/** An Adam β: in [0, 1). */
function beta(values: Parsed['values'], flag: string, fallback: number): number {
  const v = num(values, flag, fallback, { min: 0 });
  if (v >= 1) throw new UsageError(`--${flag} must be < 1, got '${values[flag]}'`);
  return v;
}

/** The configuration a new run's flags describe (everything but what the data and VGG decide). */
function buildConfig(values: Parsed['values'], argv: string[]): { config: RunConfig; vggSource: VggSource; vggLayers?: string[]; fitRlInput: boolean; autoBin: boolean } {
  const root = str(values, 'data');
  if (!root) throw new UsageError('--data DIR is required (the dataset folder)');
  if (values.layout === undefined) throw new UsageError('--layout is required: paired, zstack or unpaired');
  const layout = choice<Layout>(values, 'layout', ['paired', 'zstack', 'unpaired'], 'paired');
  const source = str(values, 'source') ?? null;
  const target = str(values, 'target') ?? null;
  const inFocus = str(values, 'in-focus') ?? null;
  const planes = list(str(values, 'planes'), 'planes');
  if (layout === 'zstack') {
    if (source !== null || target !== null) throw new UsageError('--source/--target are for --layout paired or unpaired; a z-stack takes --in-focus and --planes');
    if (!inFocus) throw new UsageError('--layout zstack needs --in-focus FOLDER (the in-focus plane, e.g. Z007)');
  } else {
    if (inFocus !== null || planes !== null) throw new UsageError(`--in-focus/--planes are for --layout zstack; --layout ${layout} takes --source and --target`);
    if (!source || !target) throw new UsageError(`--layout ${layout} needs --source FOLDER and --target FOLDER (out-of-focus and in-focus sub-folders of --data)`);
  }
  const size = num(values, 'size', DEFAULTS.size, { int: true, min: 32, max: 8192 });
  if (size % 4 !== 0) throw new UsageError(`--size must be a multiple of 4 (the generator halves it twice), got '${values.size}'`);
  const iterations = num(values, 'iters', DEFAULTS.iters, { int: true, min: 1 });
  const decayStart = num(values, 'decay-start', Math.floor(iterations / 2), { int: true, min: 0, max: iterations });
  const init = str(values, 'init');
  let initFrom: RunConfig | null = null;
  if (init !== undefined) {
    try {
      initFrom = readRunConfig(init);
    } catch (err) {
      throw new UsageError(`--init ${init}: ${(err as Error).message}`);
    }
  }
  const initModel = initFrom?.model ?? null;
  // A corrector fine-tuned from another keeps the intensity mapping its weights were trained for.
  const normalization = choice(values, 'normalization', ['auto', '8bit', '16bit-range', 'percentile'] as const, initFrom?.data.normalization ?? 'auto');
  const pct = percentilesFlag(str(values, 'percentiles')) ?? (values.normalization === undefined ? initFrom?.data.percentiles : undefined);
  if (pct && normalization !== 'auto' && normalization !== 'percentile') throw new UsageError(`--percentiles applies to --normalization auto or percentile, not ${normalization}`);
  const vggSource = choice<VggSource>(values, 'vgg', VGG_SOURCES, 'keras');
  const vggLayers = list(str(values, 'vgg-layers'), 'vgg-layers', 'VGG19 layers') ?? undefined;
  const unknownLayer = vggLayers?.find((l) => !VGG_LAYERS.includes(l));
  if (unknownLayer) throw new UsageError(`--vgg-layers: unknown layer '${unknownLayer}'; known: ${VGG_LAYERS.join(', ')}`);
  const method = choice<TrainMethod>(values, 'method', TRAIN_METHODS, 'comi');
  const refused = METHOD_REFUSES[method].find((f) => values[f] !== undefined);
  if (refused) throw new UsageError(`--${refused} is not supported with --method ${method} (${METHOD_NOTE[method]})`);
  if (init !== undefined && method === 'pix2pix') throw new UsageError('--init is not supported with --method pix2pix (its generator is a U-Net)');
  const globalResidual = values['global-residual'] === true || (values['global-residual'] === undefined && initModel?.globalResidual === true);
  const startAtInput = values['start-at-input'] === true;
  if (startAtInput && !globalResidual) {
    throw new UsageError('--start-at-input needs --global-residual: without it a zero last convolution outputs a flat image');
  }
  if (startAtInput && method !== 'comi') throw new UsageError(`--start-at-input is not supported with --method ${method}`);
  const precision = choice(values, 'precision', ['f32', 'f16'] as const, 'f32');
  if (precision === 'f16' && method !== 'comi' && method !== 'cyclegan') throw new UsageError(`--precision f16 is not supported with --method ${method} (only the CycleGAN's ResNet generators keep f16 maps)`);
  const registerRadius = num(values, 'register', 0, { int: true, min: 0, max: 256 });
  const autoBinned = values.bin === 'auto';
  const bin = autoBinned ? 1 : num(values, 'bin', 1, { int: true, min: 1, max: 64 });
  if (autoBinned && values['rl-input'] !== 'fit') throw new UsageError('--bin auto chooses the factor from the blur that --rl-input fit measures; add --rl-input fit, or give --bin N');
  const rlInput = rlInputFlag(values['rl-input'] as string | undefined);
  if (rlInput === 'fit' && layout !== 'paired') throw new UsageError('--rl-input fit scores RL on pairs of the paired layout; give --rl-input SIGMA,ITERATIONS');
  if (registerRadius > 0 && layout === 'unpaired') throw new UsageError('--register aligns pairs: the unpaired layout has none');
  const config: RunConfig = {
    format: RUN_FORMAT,
    version: RUN_VERSION,
    created: new Date().toISOString(),
    argv,
    model: {
      channels: 1, // set from the data
      ngf: num(values, 'ngf', initModel?.ngf ?? DEFAULTS.ngf, { int: true, min: 1, max: 1024 }),
      ndf: num(values, 'ndf', DEFAULTS.ndf, { int: true, min: 1, max: 1024 }),
      blocks: num(values, 'blocks', initModel?.blocks ?? DEFAULTS.blocks, { int: true, min: 0, max: 100 }),
      upsampling: choice(values, 'upsampling', ['transpose', 'resize'] as const, initModel?.upsampling ?? 'transpose'),
      globalResidual,
      ...(rlInput && rlInput !== 'fit' ? { rlInput } : {}),
    },
    data: {
      root: resolve(root), layout, source, target, inFocus, planes, size, normalization,
      crops: choice(values, 'crops', ['structured', 'any'] as const, 'structured'),
      pairScale: choice(values, 'pair-scale', ['shared', 'separate'] as const, 'shared'),
      ...(registerRadius > 0 ? { register: registerRadius } : {}),
      ...(bin > 1 ? { bin } : {}),
      // auto normalises 16-bit and float images by percentiles: recorded so that correction can repeat it.
      ...(normalization === 'auto' || normalization === 'percentile' ? { percentiles: pct ?? { ...DEFAULT_PERCENTILES } } : {}),
    },
    losses: {
      gan: choice(values, 'gan', ['lsgan', 'log'] as const, 'lsgan'),
      adversarialWeight: num(values, 'adversarial-weight', 1, { min: 0 }),
      contentWeight: num(values, 'content-weight', 1, { min: 0 }),
      cycleWeight: num(values, 'cycle-weight', 0.001, { min: 0 }),
      ...(values.content === undefined ? {} : { content: contentFlag(str(values, 'content')!) }),
    },
    vgg: null, // set by the trainer from the loaded VGG19
    optim: {
      lr: num(values, 'lr', DEFAULTS.lr, { min: 0, minExclusive: true, max: 1 }),
      beta1: beta(values, 'beta1', DEFAULTS.beta1),
      beta2: beta(values, 'beta2', DEFAULTS.beta2),
      iterations,
      decayStart,
      batch: num(values, 'batch', 1, { int: true, min: 1, max: 64 }),
      poolSize: num(values, 'pool-size', DEFAULT_POOL_SIZE, { int: true, min: 0, max: 10000 }),
    },
    seed: num(values, 'seed', DEFAULTS.seed, { int: true, min: 0, max: 0xffffffff }),
    ...(init === undefined ? {} : { init }),
    ...(startAtInput ? { startAtInput } : {}),
    ...(precision === 'f16' ? { precision } : {}),
  };
  return { ...applyMethod(method, values, config, vggSource, vggLayers), fitRlInput: rlInput === 'fit', autoBin: autoBinned };
}

/** Flags a baseline has no use for: each is refused rather than silently ignored. */
export const METHOD_REFUSES: Record<TrainMethod, string[]> = {
  comi: [],
  cyclegan: ['content-weight', 'content', 'vgg', 'vgg-layers'],
  pix2pix: ['blocks', 'upsampling', 'global-residual', 'cycle-weight', 'content', 'vgg', 'vgg-layers', 'pool-size', 'bin'],
  deblurgan: ['upsampling', 'global-residual', 'cycle-weight', 'content', 'vgg-layers', 'pool-size'],
};
const METHOD_NOTE: Record<TrainMethod, string> = {
  comi: '',
  cyclegan: 'the paper\'s loss without its content term',
  pix2pix: 'a U-Net trained with GAN + λ·L1, no image pool',
  deblurgan: 'a ResNet generator with global residual trained with GAN + λ·VGG19 conv3_3 MSE, no image pool',
};

/** Train flags with those a method refuses taken out (compare gives every method the same flags), and which they were. */
export function flagsForMethod(method: TrainMethod, argv: string[]): { argv: string[]; dropped: string[] } {
  const out: string[] = [];
  const dropped: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].startsWith('--') ? argv[i].slice(2).split(/=(.*)/s) : [null, undefined];
    if (name === null || !METHOD_REFUSES[method].includes(name)) {
      out.push(argv[i]);
      continue;
    }
    dropped.push(`--${name}`);
    if (inline === undefined && FLAGS[name]?.type !== 'boolean') i++;
  }
  return { argv: out, dropped };
}

/** The largest U-Net depth (≤ 8, unet_256) whose 2^downs divides the crop size. */
function unetDowns(size: number): number {
  let downs = 0;
  while (downs < 8 && size % 2 ** (downs + 1) === 0) downs++;
  if (downs < 5) throw new UsageError(`--method pix2pix needs --size a multiple of 32 (its U-Net halves it at least 5 times), got ${size}`);
  return downs;
}

function applyMethod(method: TrainMethod, values: Parsed['values'], config: RunConfig, vggSource: VggSource, vggLayers?: string[]) {
  config.model.method = method;
  const l = config.losses;
  if (method === 'cyclegan') l.contentWeight = 0;
  if (method === 'pix2pix' || method === 'deblurgan') {
    // pix2pix's default GAN is the vanilla (log) loss; DeblurGAN's is used with its LSGAN option.
    l.gan = values.gan === undefined ? (method === 'pix2pix' ? 'log' : 'lsgan') : l.gan;
    l.contentWeight = num(values, 'content-weight', 100, { min: 0 });
    l.content = method === 'pix2pix' ? ['l1'] : ['vgg'];
    l.cycleWeight = 0;
    config.optim.poolSize = 0;
    config.model.upsampling = 'transpose';
    config.model.globalResidual = method === 'deblurgan';
  }
  if (method === 'pix2pix') {
    config.model.blocks = 0;
    config.model.downs = unetDowns(config.data.size);
  }
  return { config, vggSource, vggLayers: method === 'deblurgan' ? [DEBLURGAN_LAYER] : vggLayers };
}

function contentFlag(raw: string): ContentTerm[] {
  try {
    return parseContentTerms(raw);
  } catch (err) {
    throw new UsageError(`--content: ${(err as Error).message}`);
  }
}

/** Flags and their values → what to train; null for --help. Every bad value is a one-line UsageError. */
export function parseTrainFlags(argv: string[]): ParsedTrain | null {
  const { values, positionals } = parseFlags(argv, FLAGS, true);
  if (values.help) return null;
  applyMaxPixels(values);
  const resume = values.resume === true;
  if (positionals.length > (resume ? 1 : 0)) {
    throw new UsageError(`unexpected argument '${positionals.at(-1)}'${resume ? '' : ' (flags take the form --name value)'}`);
  }
  const out = str(values, 'out');
  if (resume && out && positionals.length) throw new UsageError(`give the run folder once: --resume ${positionals[0]} or --out ${out} --resume`);
  const runDir = out ?? positionals[0];
  if (!runDir) throw new UsageError(resume ? '--resume needs the run folder: --resume RUN' : '--out RUN is required (the run folder to create)');
  const scheduleFrom = (last: Partial<TrainSchedule>): TrainSchedule => ({
    checkpointEvery: num(values, 'checkpoint-every', last.checkpointEvery ?? 2500, { int: true, min: 1 }),
    sampleEvery: num(values, 'sample-every', last.sampleEvery ?? 1000, { int: true, min: 0 }),
    logEvery: num(values, 'log-every', last.logEvery ?? 10, { int: true, min: 1 }),
    nanCheckEvery: num(values, 'nan-check-every', last.nanCheckEvery ?? DEFAULT_NAN_CHECK_EVERY, { int: true, min: 1 }),
    onNan: choice(values, 'on-nan', ON_NAN, last.onNan ?? 'rollback'),
    // Absent: best where the run has held-out pairs (the trainer decides), without a note where it has none.
    keep: values.keep === undefined ? last.keep : choice(values, 'keep', KEEP, 'best'),
  });
  if (!resume) {
    const timeLimit = values['time-limit'] === undefined ? undefined : 60 * num(values, 'time-limit', 0, { min: 0.1 });
    return { runDir, resume, ...buildConfig(values, argv), schedule: scheduleFrom({}), timeLimit };
  }
  if (values['time-limit'] !== undefined) throw new UsageError(TIME_LIMIT_ON_RESUME);

  // A resumed run keeps its configuration: flags that repeat it are accepted, flags that change it are refused.
  const stored = readRunConfig(runDir);
  const schedule = scheduleFrom(stored.schedule ?? {});
  for (const flag of Object.keys(values)) {
    if (SESSION_FLAGS.includes(flag)) continue;
    // Without content loss (off, or forced off for unpaired data) these were ignored when the run started, too.
    if ((flag === 'content-weight' || flag === 'content' || flag === 'vgg' || flag === 'vgg-layers') && stored.losses.contentWeight === 0 && (flag !== 'content-weight' || stored.data.layout === 'unpaired')) continue;
    const raw = values[flag] as string | true;
    const want = STORED[flag](stored);
    if (!sameAsStored(flag, raw, want)) {
      throw new UsageError(`--${flag}${raw === true ? '' : ` ${raw}`} differs from the run's config.json (${flag} ${JSON.stringify(want)}); a resumed run keeps its configuration`);
    }
  }
  const iterations = values.iters === undefined ? undefined : num(values, 'iters', 0, { int: true, min: 1 });
  return { runDir, resume, iterations, schedule };
}

/** Where each configuration flag is recorded in config.json. */
const STORED: Record<string, (c: RunConfig) => unknown> = {
  method: (c) => c.model.method ?? 'comi',
  data: (c) => c.data.root, layout: (c) => c.data.layout, source: (c) => c.data.source, target: (c) => c.data.target,
  'in-focus': (c) => c.data.inFocus, crops: (c) => c.data.crops ?? 'any', 'pair-scale': (c) => c.data.pairScale ?? 'separate', register: (c) => c.data.register ?? 0, bin: (c) => c.data.bin ?? 1, planes: (c) => c.data.planes, size: (c) => c.data.size, normalization: (c) => c.data.normalization,
  percentiles: (c) => c.data.percentiles ?? null, iters: (c) => c.optim.iterations, 'decay-start': (c) => c.optim.decayStart,
  batch: (c) => c.optim.batch ?? 1, 'pool-size': (c) => c.optim.poolSize ?? DEFAULT_POOL_SIZE, lr: (c) => c.optim.lr, beta1: (c) => c.optim.beta1, beta2: (c) => c.optim.beta2,
  ngf: (c) => c.model.ngf, ndf: (c) => c.model.ndf, blocks: (c) => c.model.blocks, upsampling: (c) => c.model.upsampling,
  'global-residual': (c) => c.model.globalResidual, gan: (c) => c.losses.gan, 'adversarial-weight': (c) => c.losses.adversarialWeight,
  'content-weight': (c) => c.losses.contentWeight, content: (c) => c.losses.content ?? ['vgg'], 'cycle-weight': (c) => c.losses.cycleWeight, vgg: (c) => c.vgg?.source ?? null,
  'vgg-layers': (c) => c.vgg?.layers ?? null, 'rl-input': (c) => c.model.rlInput ?? null,
  seed: (c) => c.seed, init: (c) => c.init ?? null, 'start-at-input': (c) => c.startAtInput === true,
  precision: (c) => c.precision ?? 'f32',
};

function sameAsStored(flag: string, raw: string | true, stored: unknown): boolean {
  if (flag === 'data') return resolve(raw as string) === stored;
  if (flag === 'content') return JSON.stringify(contentFlag(raw as string)) === JSON.stringify(stored);
  if (flag === 'vgg-layers') return JSON.stringify(list(raw as string, flag)) === JSON.stringify(stored);
  if (flag === 'planes') return JSON.stringify(list(raw as string, flag)) === JSON.stringify(stored);
  if (flag === 'percentiles') return JSON.stringify(percentilesFlag(raw as string)) === JSON.stringify(stored);
  if (flag === 'rl-input') return raw === 'fit' ? stored !== null : JSON.stringify(rlInputFlag(raw as string)) === JSON.stringify(stored);
  if (flag === 'bin' && raw === 'auto') return true; // resolved when the run began
  if (typeof stored === 'number') return Number(raw) === stored;
  return raw === stored;
}

/** What --keep best kept, and what it means when that is the start. */
function keptLine({ kept, config }: TrainResult): string {
  if (!kept) return '';
  const start = kept.startPsnr !== undefined && kept.iteration > 0 ? `; iteration 0: ${kept.startPsnr.toFixed(2)} dB` : '';
  const line = `, from iteration ${kept.iteration} (held-out pairs: ${kept.psnr.toFixed(2)} dB, the best check${start})`;
  if (kept.iteration > 0) return line;
  const what = config.startAtInput ? (config.model.rlInput ? 'the RL input stage alone' : 'the input unchanged') : config.init ? `--init ${config.init} as it was` : 'the random start';
  return `${line}\nnote: no check improved on the start: the corrector is ${what}`;
}

function lossLine(l: StepLosses): string {
  return `G ${l.gTotal.toFixed(3)} (adv ${l.gAdv.toFixed(3)} cont ${l.gContent.toFixed(3)} cyc ${l.gCycle.toFixed(3)}) D ${l.dT.toFixed(3)}/${l.dS.toFixed(3)}`;
}

export async function trainCommand(argv: string[]): Promise<void> {
  const parsed = parseTrainFlags(argv);
  if (!parsed) {
    process.stdout.write(HELP);
    return;
  }
  const { runDir } = parsed;
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      process.stderr.write('\nstopped without saving\n');
      process.exit(130);
    }
    process.stderr.write('\nstopping: the checkpoint is saved after this iteration (Ctrl-C again to quit without saving)\n');
    controller.abort();
  };
  // Batch schedulers stop jobs with SIGTERM: it saves a checkpoint as Ctrl-C does.
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let loading: Progress | null = null;
  let progress: Progress | null = null;
  let last = '';
  let guardText = '';
  try {
    const fitting = fitProgress('fitting the RL input stage on training pairs');
    const fit = await resolveRlInput(parsed, fitting.onTrial);
    fitting.done();
    if (fit?.autoBin) process.stderr.write(`note: --bin auto: the blur fits a Gaussian of σ ${fit.autoBin.sigma.toFixed(2)} px; training and correction bin images ${fit.autoBin.factor}×${fit.autoBin.factor}\n`);
    if (fit) process.stderr.write(`note: --rl-input fit: σ ${fit.sigma.toFixed(3)} px${fit.autoBin ? ' (binned)' : ''}, ${fit.iterations} iterations (RL alone: ${fit.psnr.toFixed(2)} dB on ${'≤'}12 training pairs)\n`);
    const result = await train({
      runDir,
      config: parsed.config,
      vggSource: parsed.vggSource,
      vggLayers: parsed.vggLayers,
      iterations: parsed.iterations,
      timeLimit: parsed.timeLimit,
      schedule: parsed.schedule,
      signal: controller.signal,
      onNote: (m) => process.stderr.write(`note: ${m}\n`),
      onWarning: (m) => process.stderr.write(`\nwarning: ${m}\n`),
      onLoad: (done, total) => {
        loading ??= new Progress('loading images', total);
        // From the second image on: one image gives no rate yet.
        if (done === total) loading.done();
        else if (done > 1) loading.update(done);
      },
      onStart: ({ config, start, trainItems, validation }) => {
        const m = config.model;
        const what = config.data.layout === 'unpaired' ? 'images' : 'pairs';
        process.stderr.write(
          `${start > 0 ? `resuming at iteration ${start}` : 'training'}: ${m.method ?? 'comi'}, ${trainItems} ${what} (${config.data.layout}), ${config.data.size}² crops, ` +
            `ngf ${m.ngf} ndf ${m.ndf} blocks ${m.blocks}, λ adv/content/cycle ${config.losses.adversarialWeight}/${config.losses.contentWeight}/${config.losses.cycleWeight} (content ${(config.losses.content ?? ['vgg']).join('+')}), ` +
            `${config.precision === 'f16' ? 'f16 maps, ' : ''}${config.optim.iterations} iterations → ${runDir}\n`,
        );
        if (validation) {
          process.stderr.write(
            `--keep best: ${validation.pairs} held-out pairs (windows ≤ ${VALIDATION_SIDE}²; input ${validation.inputPsnr.toFixed(2)} dB); ` +
              `best so far: iteration ${validation.kept.iteration}, ${validation.kept.psnr.toFixed(2)} dB\n`,
          );
        }
        progress = new Progress('train', config.optim.iterations, start);
      },
      onShortened: (iterations) => progress?.setTotal(iterations),
      onIteration: (e) => {
        if (e.heldOut) guardText = ` | held-out PCC ${e.heldOut.correctedPcc.toFixed(3)} (input ${e.heldOut.inputPcc.toFixed(3)})${e.heldOut.warning ? ' WARNING' : ''}`;
        if (e.validation) guardText += `, PSNR ${e.validation.psnr.toFixed(2)} dB (best ${e.validation.best.toFixed(2)})`;
        last = lossLine(e.losses) + guardText;
        progress!.update(e.iteration, last);
      },
    });
    if (result.interrupted) {
      progress!.update(result.iteration, last, true);
      process.stdout.write(`interrupted at iteration ${result.iteration} of ${result.config.optim.iterations}; checkpoint saved. Continue with: node train.js --resume ${runDir}\n`);
      process.exitCode = 130;
      return;
    }
    (progress as Progress | null)?.done(last);
    process.stdout.write(`trained ${result.iteration} iterations; the corrector is ${runDir}/generator.safetensors${keptLine(result)}\n`);
    if (result.heldOut?.warning) {
      const earlier = result.kept && result.kept.iteration !== result.iteration;
      process.stdout.write(`WARNING: ${result.heldOut.warning} at the last check (summary.json); ${earlier ? `the corrector kept is iteration ${result.kept!.iteration}'s: check its output before trusting it` : 'do not trust this corrector'}\n`);
    }
  } catch (err) {
    if (err instanceof TrainingInterrupted) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 130;
      return;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
