// `comi evaluate`: PSNR, SSIM (both conventions) and PCC of corrected images against ground truth, with the
// uncorrected input as baseline, mean ± std per plane, CSV/JSON/Markdown tables and the HTML QC report.
import { choice, mapMemoryFlag, num, parseFlags, precisionFlag, str, ttaFlag, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { applyMaxPixels, MAX_PIXELS_FLAG, maxPixelsHelp } from './limits_flag.js';
import { Progress } from './progress.js';
import { evaluate, type EvaluateOptions, type EvaluateResult } from '../eval/qc.js';
import { METRICS, METRIC_LABELS, CONVENTION_CHOICES, meanPmStd, resolveScoring, scoringNote, type Convention, type DataRangeChoice } from '../eval/evaluate.js';
import { normalizedConventionNote } from '../eval/convention.js';
import { TILE_ALIGN } from '../correct/tiling.js';

const FLAGS: FlagSpec = {
  pred: { type: 'string' },
  truth: { type: 'string' },
  input: { type: 'string' },
  run: { type: 'string' },
  model: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  convention: { type: 'string' },
  'data-range': { type: 'string' },
  tile: { type: 'string' },
  stats: { type: 'string' },
  tta: { type: 'string' },
  precision: { type: 'string' },
  'map-memory': { type: 'string' },
  'no-report': { type: 'boolean' },
  overwrite: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...MAX_PIXELS_FLAG,
};

const HELP = `usage: comi evaluate --pred DIR --truth DIR [--input DIR] [--run RUN] --out DIR [options]
       comi evaluate --model RUN [--data DIR] --out DIR [options]

Per image: PSNR, SSIM in two conventions (scikit-image defaults: 7×7 uniform window, sample covariance; Wang et
al.: Gaussian σ 1.5, population covariance) and PCC, equal to scikit-image 0.19.3 / numpy; the same for the
uncorrected input (baseline); mean ± std per plane (subfolders of --pred, or z-stack planes) and overall.
Scores are in the field's normalized convention unless --convention raw (every table states which).
Writes DIR/metrics.csv, metrics.json, metrics.md, montages/*.png (input | corrected | ground truth | |error|)
and report.html (self-contained, with the training loss curves when the run is known).

  --pred DIR           corrected images (subfolders one level down are groups, e.g. z-stack planes)
  --truth DIR          ground truth, matched by relative path, file name, or the last number in the name
  --input DIR          uncorrected inputs, matched the same way: the baseline rows and the montage's first panel
  --run RUN            run folder whose log.jsonl gives the report's loss curves
  --model RUN          instead of --pred: correct the held-out split (RUN/split.json) of the run's data
  --data DIR           with --model: the dataset folder, when it moved since training (default: from the run)
  --out DIR            folder for the results (created if missing; existing results kept unless --overwrite)
  --convention C       normalized (default; ${normalizedConventionNote()}, as CSBDeep / ZeroCostDL4Mic)
                       | raw (the files' pixel values with --data-range; dim 16-bit images score ~75 dB with 65535)
  --data-range R       implies --convention raw: dtype (default: 255 for 8-bit, 65535 for 16-bit ground truth) |
                       truth (its max − min per image) | a number (e.g. 1 for images in [0, 1])
  --tile PX, --stats image|tile, --tta N, --precision f32|f16, --map-memory MIB
                       with --model: as in comi correct
  --no-report          metrics only: no montages, no report.html
  --overwrite          replace earlier results in --out
${maxPixelsHelp(23)}
`;

export function parseEvaluateFlags(argv: string[]): EvaluateOptions | null {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) return null;
  applyMaxPixels(values);
  const out = str(values, 'out');
  if (!out) throw new UsageError('--out DIR is required (the folder for metrics and the report)');
  const model = str(values, 'model');
  const pred = str(values, 'pred');
  const truth = str(values, 'truth');
  if (model !== undefined && (pred !== undefined || truth !== undefined || values.input !== undefined || values.run !== undefined)) {
    throw new UsageError('--model evaluates the run\'s held-out split: give it without --pred, --truth, --input and --run');
  }
  if (model === undefined && (pred === undefined || truth === undefined)) throw new UsageError('give --pred DIR and --truth DIR, or --model RUN');
  if (model === undefined) {
    for (const f of ['data', 'tile', 'stats', 'tta', 'precision', 'map-memory']) if (values[f] !== undefined) throw new UsageError(`--${f} applies to --model only`);
  }
  const convention = values.convention === undefined ? undefined : choice<Convention>(values, 'convention', CONVENTION_CHOICES, 'normalized');
  const rawRange = str(values, 'data-range');
  let dataRange: DataRangeChoice | undefined;
  if (rawRange === undefined || rawRange === 'dtype' || rawRange === 'truth') dataRange = rawRange;
  else dataRange = num(values, 'data-range', 0, { min: 0, minExclusive: true });
  if (convention === 'normalized' && dataRange !== undefined) throw new UsageError('--data-range applies to --convention raw only (the normalized convention uses 1)');
  const tile = values.tile === undefined ? undefined : num(values, 'tile', 0, { min: 2 * TILE_ALIGN, int: true });
  if (tile !== undefined && tile % TILE_ALIGN !== 0) throw new UsageError(`--tile must be a multiple of ${TILE_ALIGN}, got '${values.tile}'`);
  const stats = str(values, 'stats');
  if (stats !== undefined && stats !== 'image' && stats !== 'tile') throw new UsageError(`--stats must be one of image, tile, got '${stats}'`);
  return {
    out, pred, truth, model, tile, convention, dataRange,
    input: str(values, 'input'), run: str(values, 'run'), data: str(values, 'data'),
    stats: stats as 'image' | 'tile' | undefined,
    tta: ttaFlag(values),
    precision: precisionFlag(values, stats),
    mapMemory: mapMemoryFlag(values, stats),
    report: values['no-report'] !== true,
    overwrite: values.overwrite === true,
  };
}

/** Also returns the results (null for --help), so that `comi demo` reads them without reparsing metrics.json. */
export async function evaluateCommand(argv: string[]): Promise<EvaluateResult | null> {
  const opts = parseEvaluateFlags(argv);
  if (!opts) {
    process.stdout.write(HELP);
    return null;
  }
  process.stdout.write(`${opts.model ? `model: ${opts.model} (held-out split${opts.data ? ` of ${opts.data}` : ''})` : `pred: ${opts.pred}, truth: ${opts.truth}${opts.input ? `, input: ${opts.input}` : ' (no --input: no baseline)'}`}\n`
    + `${scoringNote(resolveScoring(opts.convention, opts.dataRange))}; output: ${opts.out}${opts.report ? ' (metrics, montages, report.html)' : ' (metrics)'}\n`);
  let images: Progress | null = null;
  let tiles: Progress | null = null;
  const res = await evaluate({
    ...opts,
    onImage: (i, n, name) => {
      images ??= new Progress('evaluate', n);
      if (i > 0) images.update(i, `next: ${name}`, true);
      tiles = null;
    },
    onTile: (done, total) => {
      tiles ??= new Progress('  correcting: tile', total);
      tiles.update(done, '', done === total);
    },
  });
  if (images) (images as Progress).done();
  if (res.results.length === 0) {
    for (const f of res.failures) process.stderr.write(`failed: ${f.file}: ${f.message}\n`);
    throw new Error(`no image could be evaluated${res.failures.length ? ' (listed above)' : ''}; no metrics or report written`);
  }
  const w = Math.max(8, ...res.summary.map((s) => s.group.length));
  process.stdout.write(`${'set'.padEnd(w)}  ${'compared'.padEnd(9)}  n    ${METRICS.map((k) => METRIC_LABELS[k].padEnd(17)).join(' ')}\n`);
  for (const s of res.summary) {
    process.stdout.write(`${s.group.padEnd(w)}  ${s.kind.padEnd(9)}  ${String(s.n).padEnd(4)} ${METRICS.map((k) => meanPmStd(s, k).padEnd(17)).join(' ')}\n`);
  }
  process.stdout.write(`wrote ${res.written.filter((f) => !f.startsWith('montages/')).join(', ')}${res.written.some((f) => f.startsWith('montages/')) ? ' and montages/' : ''} in ${opts.out}\n`);
  for (const f of res.failures) process.stderr.write(`failed: ${f.file}: ${f.message}\n`);
  if (res.failures.length) throw new Error(`${res.failures.length} image(s) could not be evaluated (listed above); ${res.results.length} evaluated`);
  return res;
}
