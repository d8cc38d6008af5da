// `comi correct`: corrects images of any size with a trained run's generator (src/correct/correct.ts).
import { basename, join } from 'node:path';
import { choice, mapMemoryFlag, num, parseFlags, percentilesFlag, precisionFlag, str, ttaFlag, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { applyMaxPixels, MAX_PIXELS_FLAG, maxPixelsHelp } from './limits_flag.js';
import { Progress } from './progress.js';
import { correctFiles, type CorrectFilesOptions, type CorrectFilesResult, type NormalizationChoice } from '../correct/correct.js';
import { checkNamePattern, DEFAULT_NAME_PATTERN, OUTPUT_DTYPES, type OutputDtype } from '../correct/files.js';
import { TILE_ALIGN } from '../correct/tiling.js';
import { parseShard, type Shard } from '../correct/batch.js';
import { DEFAULT_FOCUS_MEASURE, FOCUS_THRESHOLDS } from '../focus/focus.js';

const FLAGS: FlagSpec = {
  model: { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  dtype: { type: 'string' },
  normalization: { type: 'string' },
  percentiles: { type: 'string' },
  tile: { type: 'string' },
  stats: { type: 'string' },
  tta: { type: 'string' },
  precision: { type: 'string' },
  'map-memory': { type: 'string' },
  overwrite: { type: 'boolean' },
  shard: { type: 'string' },
  'skip-existing': { type: 'boolean' },
  'only-blurred': { type: 'string' },
  manifest: { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...MAX_PIXELS_FLAG,
};

const HELP = `usage: comi correct --model RUN --out DIR [options] INPUT...

Corrects out-of-focus images with the generator of a training run. INPUT: image files (PNG, JPEG, TIFF), folders
(their images) or quoted globs ('data/*.tif', 'stack/**/*.png'). Outputs keep each input's size and channel count
and, by default, its bit depth; existing files are never replaced without --overwrite. Multi-page TIFFs (z-stacks,
time series, ImageJ hyperstacks, OME-TIFF) are corrected plane by plane and written back as the same stack: page
order, axes, pixel size, z spacing and channel names kept (ImageJ-compatible, so Fiji shows the scale).

  --model RUN            run folder written by train.js (generator.safetensors, config.json)
  --out DIR              output folder (created if missing)
  --name PATTERN         output file name inside DIR (default ${DEFAULT_NAME_PATTERN}): {name} input name without
                         extension, {ext} its extension (.tif where that format cannot hold --dtype), {parent} its
                         folder's name, {model} the run folder's name; may contain subfolders
  --dtype T              same | uint8 | uint16 | float32 (default same). float32 is written as TIFF in the input's
                         intensity units; uint8/uint16 rescale the input's full range
  --normalization M      auto | 8bit | 16bit-range | percentile (default: what the run was trained with; auto =
                         8-bit images /255, others per-image percentiles)
  --percentiles LO,HI    percentiles for percentile normalisation (default: the run's, else 0.1,99.9)
  --tile PX              square tiles of this edge in pixels, a multiple of ${TILE_ALIGN} (default: the largest the adapter
                         allows; with --stats image, rows of tiles as wide as the image; halved automatically when the
                         GPU runs out of memory)
  --stats image|tile     instance-norm statistics of the whole image (default: equals whole-image correction; each
                         layer runs once over the image, tile by tile) or of each tile (one forward per overlapping
                         tile, approximate, tiles may differ)
  --tta N                average the corrections of N mirrored / turned copies: 1 (default), 2, 4 or 8; N× the
                         time (on the wafer series it changed PSNR by ±0.01 dB; docs/results.md)
  --precision f32|f16    storage of the feature maps kept between layers (default f32). f16 halves their GPU
                         memory while the arithmetic stays f32 (the shipped correctors' outputs moved by at most
                         8e-3 of their [-1, 1] range, one 8-bit grey level, PSNR 89-93 dB); it needs the adapter's
                         shader-f16 and --stats image
  --map-memory MIB       GPU memory for those feature maps (--stats image): the bands beyond it wait in host memory
                         and return when a tile needs them; slower, same result (default: no limit until the GPU
                         runs out of memory, then half of what the maps held)
  --overwrite            replace existing output files
  --shard K/N            correct only shard K (0-based) of N: inputs are split by a hash of their path relative to
                         the folder or glob root given, so N processes (examples/: Slurm, Kubernetes) with the same
                         arguments share the batch, and adding files moves none to another shard
  --skip-existing        skip inputs whose output exists (a rerun after a crash)
  --only-blurred [T]     correct only images whose focus score (${DEFAULT_FOCUS_MEASURE}, see comi focus) is below T
                         (default ${FOCUS_THRESHOLDS[DEFAULT_FOCUS_MEASURE]}); the others are recorded as sharp
  --manifest DIR         append one JSON line per input (key, content sha256, output and its sha256, model, focus
                         score, time, host) to DIR/shard-K-of-N.jsonl, and skip inputs already recorded there
                         (default OUT/manifests with --shard); check with comi manifest check
  --dry-run              list what would be written and stop
${maxPixelsHelp(25)}
`;

/** `--only-blurred` takes an optional threshold: given as its own value only when it reads as a number. */
function onlyBlurredValue(argv: string[]): string[] {
  const i = argv.indexOf('--only-blurred');
  if (i < 0) return argv;
  const next = argv[i + 1];
  const given = next !== undefined && next.trim() !== '' && Number.isFinite(Number(next));
  return [...argv.slice(0, i), `--only-blurred=${given ? next : FOCUS_THRESHOLDS[DEFAULT_FOCUS_MEASURE]}`, ...argv.slice(i + (given ? 2 : 1))];
}

/** Flags → library options; null for --help. Every bad value is a UsageError naming its flag. */
export function parseCorrectFlags(argv: string[]): CorrectFilesOptions | null {
  const { values, positionals } = parseFlags(onlyBlurredValue(argv), FLAGS, true);
  if (values.help) return null;
  applyMaxPixels(values);
  const model = str(values, 'model');
  const out = str(values, 'out');
  if (!model) throw new UsageError('--model RUN is required (the training run folder)');
  if (!out) throw new UsageError('--out DIR is required (the folder to write corrected images to)');
  if (positionals.length === 0) throw new UsageError('no input images given (files, folders or globs after the options)');
  const name = str(values, 'name', DEFAULT_NAME_PATTERN)!;
  try {
    checkNamePattern(name);
  } catch (err) {
    throw new UsageError(`--name: ${(err as Error).message}`);
  }
  const tile = values.tile === undefined ? undefined : num(values, 'tile', 0, { min: 2 * TILE_ALIGN, int: true });
  if (tile !== undefined && tile % TILE_ALIGN !== 0) throw new UsageError(`--tile must be a multiple of ${TILE_ALIGN}, got '${values.tile}'`);
  let shard: Shard | undefined;
  if (values.shard !== undefined) {
    try {
      shard = parseShard(str(values, 'shard')!);
    } catch (err) {
      throw new UsageError(`--${(err as Error).message}`);
    }
  }
  const stats = choice(values, 'stats', ['image', 'tile'] as const, 'image');
  const precision = precisionFlag(values, stats);
  return {
    model, out, inputs: positionals, name, tile, shard,
    skipExisting: values['skip-existing'] === true,
    onlyBlurred: values['only-blurred'] === undefined ? undefined : num(values, 'only-blurred', 0, { min: 0, minExclusive: true }),
    manifest: str(values, 'manifest') ?? (shard ? join(out, 'manifests') : undefined),
    dtype: choice<OutputDtype>(values, 'dtype', OUTPUT_DTYPES, 'same'),
    normalization: values.normalization === undefined ? undefined : choice<NormalizationChoice>(values, 'normalization', ['auto', '8bit', '16bit-range', 'percentile'], 'auto'),
    percentiles: percentilesFlag(str(values, 'percentiles')),
    stats,
    precision,
    mapMemory: mapMemoryFlag(values, stats),
    tta: ttaFlag(values),
    overwrite: values.overwrite === true,
    dryRun: values['dry-run'] === true,
  };
}

function printSettings(opts: CorrectFilesOptions, plan: CorrectFilesResult): void {
  const { settings: s, config } = plan;
  const m = config.model;
  const norm = s.normalization === 'auto' ? 'auto (8-bit /255, others per-image percentiles)' : s.normalization;
  const fromRun = opts.normalization === undefined ? ', as the run was trained' : '';
  const pct = s.normalization === '8bit' || s.normalization === '16bit-range' ? '' : `, percentiles ${s.percentiles.pLow}–${s.percentiles.pHigh}`;
  const lines = [
    `model:         ${opts.model} (${m.channels} channel(s), ngf ${m.ngf}, ${m.blocks} blocks, ${m.upsampling} upsampling${m.globalResidual ? ', global residual' : ''})`,
    `inputs:        ${plan.jobs.length} image(s) to correct${plan.failures.length ? `, ${plan.failures.length} problem(s) listed at the end` : ''}`,
    ...(opts.shard || opts.manifest ? [`batch:         ${opts.shard ? `shard ${opts.shard.index}/${opts.shard.count}; ` : ''}${plan.done} already in the manifest, ${plan.existing.length} output(s) existing${opts.manifest ? `; manifest ${opts.manifest}` : ''}`] : []),
    ...(opts.onlyBlurred !== undefined ? [`triage:        only images with ${DEFAULT_FOCUS_MEASURE} < ${opts.onlyBlurred} are corrected`] : []),
    `output:        ${opts.out}/${opts.name ?? DEFAULT_NAME_PATTERN}, dtype ${s.dtype}${opts.overwrite ? ', replacing existing files' : ', existing files kept'}`,
    `normalisation: ${norm}${pct}${fromRun}; inverted on output`,
    `tiles:         ${s.tile ? `${s.tile} px` : 'the largest the adapter allows'}; statistics ${s.stats === 'image' ? `of the whole image (layer by layer, ${6 + 2 * m.blocks} layers)` : 'per tile (one pass)'}`,
    ...(s.precision === 'f16' ? ['precision:     feature maps between layers stored as f16 (half the memory), arithmetic in f32'] : []),
    ...(s.mapMemory !== undefined ? [`map memory:    at most ${s.mapMemory / 2 ** 20} MiB of feature maps on the GPU, the rest in host memory`] : []),
    ...(s.tta > 1 ? [`augmentation:  the mean of ${s.tta} mirrored / turned corrections (${s.tta}× the time)`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function correctCommand(argv: string[]): Promise<void> {
  const opts = parseCorrectFlags(argv);
  if (!opts) {
    process.stdout.write(HELP);
    return;
  }
  let tiles: Progress | null = null;
  let current = '';
  const res = await correctFiles({
    ...opts,
    onPlan: (plan) => printSettings(opts, plan),
    onFile: (i, n, job) => {
      current = basename(job.input);
      tiles = null;
      process.stdout.write(`[${i + 1}/${n}] ${job.input} → ${job.output}\n`);
    },
    onTile: (done, total) => {
      tiles ??= new Progress(`  ${current}: tile`, total);
      if (done === total) tiles.done();
      else tiles.update(done);
    },
    onSharp: (_job, focus) => process.stdout.write(`  sharp (${DEFAULT_FOCUS_MEASURE} ${focus.toPrecision(3)} ≥ ${opts.onlyBlurred}): not corrected\n`),
    onWritten: (_job, r, pages) => {
      const { width, height, channels, bitDepth } = r.image;
      const how = `${r.tiles > 1 ? `${r.tiles} tiles of ${r.tile === r.tileWidth ? r.tile : `${r.tile} × ${r.tileWidth}`} px × ${r.passes} ${(opts.stats ?? 'image') === 'image' ? 'layers' : 'pass'}` : 'one tile'}${opts.precision === 'f16' ? ', f16 maps' : ''}`;
      const halved = r.retries ? `, tile halved ${r.retries}× after running out of GPU memory` : '';
      const spilled = r.spills ? `, map bands moved to host memory ${r.spills}×` : '';
      const planes = pages > 1 ? `${pages} planes of ` : '';
      process.stdout.write(`  wrote ${planes}${width}×${height}, ${channels} channel(s), ${bitDepth === 32 ? 'float32' : `${bitDepth}-bit`} (${how}${halved}${spilled})\n`);
    },
  });
  if (opts.dryRun) for (const j of res.jobs) process.stdout.write(`would write ${j.output} (from ${j.input})\n`);
  for (const f of res.failures) process.stderr.write(`failed: ${f.file}: ${f.message}\n`);
  if (res.failures.length) {
    const done = opts.dryRun ? `${res.jobs.length} would be written` : `${res.written.length} written`;
    throw new Error(`${res.failures.length} input(s) failed (listed above); ${done}`);
  }
  const sharp = opts.onlyBlurred !== undefined ? `, ${res.sharp.length} left as sharp` : '';
  if (!opts.dryRun) process.stdout.write(`corrected ${res.written.length} image(s) into ${opts.out}${sharp}\n`);
}
