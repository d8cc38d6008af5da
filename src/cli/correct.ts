// `comi correct`: corrects images of any size with a trained run's generator (src/correct/correct.ts).
import { basename } from 'node:path';
import { choice, num, parseFlags, percentilesFlag, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { applyMaxPixels, MAX_PIXELS_FLAG, maxPixelsHelp } from './limits_flag.js';
import { Progress } from './progress.js';
import { correctFiles, type CorrectFilesOptions, type CorrectFilesResult, type NormalizationChoice } from '../correct/correct.js';
import { checkNamePattern, DEFAULT_NAME_PATTERN, OUTPUT_DTYPES, type OutputDtype } from '../correct/files.js';
import { generatorNormLayers } from '../model/generator.js';
import { TILE_ALIGN } from '../correct/tiling.js';

const FLAGS: FlagSpec = {
  model: { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  dtype: { type: 'string' },
  normalization: { type: 'string' },
  percentiles: { type: 'string' },
  tile: { type: 'string' },
  stats: { type: 'string' },
  overwrite: { type: 'boolean' },
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
  --tile PX              tile edge in pixels, a multiple of ${TILE_ALIGN} (default: the largest the adapter allows; halved
                         automatically when the GPU runs out of memory)
  --stats image|tile     instance-norm statistics of the whole image (default: tiles equal whole-image correction;
                         one pass per normalisation layer) or of each tile (one pass, faster, tiles may differ)
  --overwrite            replace existing output files
  --dry-run              list what would be written and stop
${maxPixelsHelp(25)}
`;

/** Flags → library options; null for --help. Every bad value is a UsageError naming its flag. */
export function parseCorrectFlags(argv: string[]): CorrectFilesOptions | null {
  const { values, positionals } = parseFlags(argv, FLAGS, true);
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
  return {
    model, out, inputs: positionals, name, tile,
    dtype: choice<OutputDtype>(values, 'dtype', OUTPUT_DTYPES, 'same'),
    normalization: values.normalization === undefined ? undefined : choice<NormalizationChoice>(values, 'normalization', ['auto', '8bit', '16bit-range', 'percentile'], 'auto'),
    percentiles: percentilesFlag(str(values, 'percentiles')),
    stats: choice(values, 'stats', ['image', 'tile'] as const, 'image'),
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
  const layers = generatorNormLayers(m.blocks);
  const lines = [
    `model:         ${opts.model} (${m.channels} channel(s), ngf ${m.ngf}, ${m.blocks} blocks, ${m.upsampling} upsampling${m.globalResidual ? ', global residual' : ''})`,
    `inputs:        ${plan.jobs.length} image(s) to correct${plan.failures.length ? `, ${plan.failures.length} problem(s) listed at the end` : ''}`,
    `output:        ${opts.out}/${opts.name ?? DEFAULT_NAME_PATTERN}, dtype ${s.dtype}${opts.overwrite ? ', replacing existing files' : ', existing files kept'}`,
    `normalisation: ${norm}${pct}${fromRun}; inverted on output`,
    `tiles:         ${s.tile ?? 'largest the adapter allows'} px; statistics ${s.stats === 'image' ? `of the whole image (${layers + 1} passes when tiled)` : 'per tile (one pass)'}`,
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
    onWritten: (_job, r, pages) => {
      const { width, height, channels, bitDepth } = r.image;
      const how = r.tiles > 1 ? `${r.tiles} tiles of ${r.tile} px × ${r.passes} passes` : 'one tile';
      const halved = r.retries ? `, tile halved ${r.retries}× after running out of GPU memory` : '';
      const planes = pages > 1 ? `${pages} planes of ` : '';
      process.stdout.write(`  wrote ${planes}${width}×${height}, ${channels} channel(s), ${bitDepth === 32 ? 'float32' : `${bitDepth}-bit`} (${how}${halved})\n`);
    },
  });
  if (opts.dryRun) for (const j of res.jobs) process.stdout.write(`would write ${j.output} (from ${j.input})\n`);
  for (const f of res.failures) process.stderr.write(`failed: ${f.file}: ${f.message}\n`);
  if (res.failures.length) {
    const done = opts.dryRun ? `${res.jobs.length} would be written` : `${res.written.length} written`;
    throw new Error(`${res.failures.length} input(s) failed (listed above); ${done}`);
  }
  if (!opts.dryRun) process.stdout.write(`corrected ${res.written.length} image(s) into ${opts.out}\n`);
}
