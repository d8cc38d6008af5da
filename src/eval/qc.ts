// `comi evaluate` as a library: metrics of predictions against ground truth (from folders, or by correcting the
// held-out split of a run), the tables of src/eval/evaluate.ts, PNG montages and the HTML QC report.
import { mkdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { readImage, writeImage, type Image } from '../data/image.js';
import { encodePng } from '../data/png.js';
import { datasetFileName, datasetPlane, loadDataset, loadSplit, readDatasetImage, selectKeys } from '../data/dataset.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadGenerator, readRunConfig, runPaths } from '../train/run_folder.js';
import { readLog, type LogEntry } from '../train/log.js';
import { correctImage, runSettings } from '../correct/correct.js';
import type { StatsMode } from '../correct/tiled.js';
import type { TtaCount } from '../correct/tta.js';
import type { DType } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import {
  pairFiles, evaluateSample, summarize, writeResults, checkOutDir, RESULT_FILES,
  resolveScoring, scoringNote, type Convention, type DataRangeChoice, type ImageResult, type SummaryRow,
} from './evaluate.js';
import type { Failure } from '../correct/files.js';
import { qcMontage } from '../report/montage.js';
import { renderReport, type ReportImage } from '../report/html.js';

export interface EvaluateOptions {
  out: string;
  overwrite?: boolean;
  /** Default 'normalized', or 'raw' when dataRange is given. */
  convention?: Convention;
  /** With the raw convention; default 'dtype'. */
  dataRange?: DataRangeChoice;
  /** Montages and report.html (default true). */
  report?: boolean;
  /** Folders: predictions, ground truth, uncorrected inputs (for the baseline and the montage's first panel). */
  pred?: string;
  truth?: string;
  input?: string;
  /** Run folder whose log.jsonl gives the loss curves (with --pred). */
  run?: string;
  /** Or: correct the held-out split of this run's data (root from the run unless `data`). */
  model?: string;
  data?: string;
  tile?: number;
  stats?: StatsMode;
  tta?: TtaCount;
  precision?: DType;
  /** GPU bytes for the maps kept between layers (as in correct). */
  mapMemory?: number;
  onImage?: (index: number, count: number, name: string) => void;
  onTile?: (done: number, total: number) => void;
}

export interface EvaluateResult {
  results: ImageResult[];
  summary: SummaryRow[];
  failures: Failure[];
  /** Files written, relative to `out`. */
  written: string[];
}

interface Sample {
  image: string;
  group: string;
  /** Loads the three images (the prediction may be computed here). */
  load: () => Promise<{ pred: Image; truth: Image; input: Image | null; files: ImageResult['files'] }>;
}

const montageName = (image: string) => `montages/${image.replace(/[\\/]/g, '__').replace(/\.[^.]*$/, '')}.png`;

/** Evaluates, writes metrics.{csv,json,md} (and montages/, report.html) into `out`; per-image problems are
 * collected in `failures` while the other images go on. */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluateResult> {
  const report = opts.report !== false;
  const scoring = resolveScoring(opts.convention, opts.dataRange);
  const notes: string[] = [];
  const failures: Failure[] = [];
  let samples: Sample[];
  let log: LogEntry[] | null = null;
  let cleanup = () => {};
  const outputs = [...RESULT_FILES, ...(report ? ['report.html', 'montages'] : [])];

  if (opts.model !== undefined) {
    if (opts.pred !== undefined || opts.truth !== undefined || opts.input !== undefined) throw new Error('give either --model (with --data) or --pred and --truth, not both');
    const config = readRunConfig(opts.model);
    const d = config.data;
    if (d.layout === 'unpaired') throw new Error(`run ${opts.model} was trained on unpaired data: there is no ground truth to evaluate against; use --pred and --truth`);
    const root = opts.data ?? d.root;
    outputs.push('corrected');
    checkOutDir(opts.out, outputs, opts.overwrite === true);
    const { generator } = await loadGenerator(opts.model);
    cleanup = () => generator.dispose();
    if (opts.precision === 'f16') rt().requireF16('--precision f16');
    const ds = await loadDataset({
      root, layout: d.layout, source: d.source ?? undefined, target: d.target ?? undefined, inFocus: d.inFocus ?? undefined,
      planes: d.planes ?? undefined, normalization: d.normalization, percentiles: d.percentiles,
    });
    const split = loadSplit(runPaths(opts.model).split);
    const test = selectKeys(ds, split.test);
    if (test.pairs.length === 0) throw new Error(`the held-out split of run ${opts.model} has no image pairs in ${root}`);
    const settings = runSettings(config, { tile: opts.tile, stats: opts.stats, tta: opts.tta, precision: opts.precision, mapMemory: opts.mapMemory });
    notes.push(`model ${resolve(opts.model)}: held-out split (${test.pairs.length} pairs of ${ds.pairs.length}) of ${resolve(root)}, layout ${d.layout}`);
    samples = test.pairs.map((p) => ({
      image: p.source.file,
      group: d.layout === 'zstack' ? datasetPlane(p.source.file) : '',
      load: async () => {
        const inputFile = join(root, p.source.file);
        const input = await readDatasetImage(root, p.source.file);
        const truth = await readDatasetImage(root, p.target.file);
        const pred = (await correctImage(generator, input, settings, opts.onTile)).image;
        // JPEG would change the pixels the metrics were computed on: lossless PNG instead
        const name = datasetFileName(p.source.file);
        const predFile = join(opts.out, 'corrected', /\.jpe?g$/i.test(name) ? `${name.slice(0, -extname(name).length)}.png` : name);
        mkdirSync(dirname(predFile), { recursive: true });
        await writeImage(predFile, pred);
        return { pred, truth, input, files: { pred: predFile, truth: join(root, p.target.file), input: inputFile } };
      },
    }));
    log = readLog(runPaths(opts.model).log);
  } else {
    if (opts.pred === undefined || opts.truth === undefined) throw new Error('give --pred DIR and --truth DIR (or --model RUN)');
    const paired = pairFiles(opts.pred, opts.truth, opts.input ?? null);
    failures.push(...paired.failures);
    checkOutDir(opts.out, outputs, opts.overwrite === true);
    notes.push(`predictions ${resolve(opts.pred)} against ground truth ${resolve(opts.truth)}${opts.input ? `, baseline inputs ${resolve(opts.input)}` : ' (no --input: no baseline)'}`);
    samples = paired.pairs.map((p) => ({
      image: p.image,
      group: p.group,
      load: async () => ({
        pred: await readImage(p.pred), truth: await readImage(p.truth), input: p.input ? await readImage(p.input) : null,
        files: { pred: p.pred, truth: p.truth, input: p.input },
      }),
    }));
    if (opts.run !== undefined) {
      readRunConfig(opts.run);
      log = readLog(runPaths(opts.run).log);
    }
  }
  notes.push(scoringNote(scoring));

  mkdirSync(opts.out, { recursive: true });
  const results: ImageResult[] = [];
  const images: ReportImage[] = [];
  const written: string[] = [];
  try {
    for (const [i, s] of samples.entries()) {
      opts.onImage?.(i, samples.length, s.image);
      try {
        const { pred, truth, input, files } = await s.load();
        const r = evaluateSample({ image: s.image, group: s.group, pred, truth, input, files }, scoring);
        results.push(r);
        if (report) {
          const m = qcMontage(input, pred, truth);
          const png = encodePng(m.image);
          const file = montageName(s.image);
          mkdirSync(join(opts.out, 'montages'), { recursive: true });
          writeFileAtomic(join(opts.out, file), png);
          written.push(file);
          images.push({ result: r, png, width: m.image.width, file, panels: m.panels, displayRange: m.displayRange, errorScale: m.errorScale, shrink: m.shrink });
        }
      } catch (err) {
        failures.push({ file: s.image, message: (err as Error).message });
      }
    }
  } finally {
    cleanup();
  }
  // Tables and a report of nothing would read as a result: none are written.
  if (results.length === 0) return { results, summary: [], failures, written: [] };
  const summary = summarize(results);
  const meta = { format: 'comi-evaluation', version: 1, created: new Date().toISOString(), ...scoring };
  writeResults(opts.out, results, summary, meta, notes, failures);
  written.push(...RESULT_FILES);
  if (report) {
    writeFileAtomic(join(opts.out, 'report.html'), renderReport({ title: 'COMI quality control', notes, summary, images, log, failures }));
    written.push('report.html');
  }
  return { results, summary, failures, written };
}

