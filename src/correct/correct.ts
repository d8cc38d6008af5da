// Correction of whole images and batches of files with a trained run's generator: the run's intensity mapping
// (or percentiles) into [−1, 1], tiled generator, the mapping inverted, the output type chosen, written atomically.
import { mkdirSync, accessSync, constants, statSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, relative, resolve } from 'node:path';
import { readStack, writeStack, type Image } from '../data/image.js';
import { loadGenerator, readRunConfig, type RunConfig } from '../train/run_folder.js';
import { removeStaleTempFiles } from '../io/tempfiles.js';
import { fsCause } from '../io/fs_errors.js';
import { makeParentDirs } from '../io/dirs.js';
import { expandInputs, planJobs, outputExists, DEFAULT_NAME_PATTERN, type Failure, type Job, type OutputDtype } from './files.js';
import { Manifest, manifestFile, sha256File, shardOf, type ManifestEntry, type Shard } from './batch.js';
import { imageFocus, DEFAULT_FOCUS_MEASURE } from '../focus/focus.js';
import { rt } from '../graph/runtime.js';

export { runSettings, normalizationMode, toOutputImage, correctImage, correctWholeImage, type NormalizationChoice, type CorrectSettings, type CorrectedImage } from './core.js';
import { runSettings, correctImage, type CorrectSettings, type CorrectedImage } from './core.js';

export interface CorrectFilesOptions extends Partial<CorrectSettings> {
  /** Run folder with generator.safetensors. */
  model: string;
  /** Files, folders or globs. */
  inputs: string[];
  out: string;
  /** Output name pattern (files.ts outputPath); default '{name}{ext}'. */
  name?: string;
  overwrite?: boolean;
  dryRun?: boolean;
  /** Only the inputs this shard owns (batch.ts shardOf); default all. */
  shard?: Shard;
  /** An input whose output exists is skipped (recorded as 'existing'), not a failure. */
  skipExisting?: boolean;
  /** Correct only images whose focus score (DEFAULT_FOCUS_MEASURE) is below this; the others are recorded as 'sharp'. */
  onlyBlurred?: number;
  /** Folder of per-shard JSONL manifests (batch.ts): every input is recorded there, and inputs this shard's
   * manifest already records are skipped, so a rerun after a crash does only what is left. */
  manifest?: string;
  /** Once the batch is planned (settings resolved, jobs listed), before the model is loaded. */
  onPlan?: (plan: CorrectFilesResult) => void;
  /** Before each file. */
  onFile?: (index: number, count: number, job: Job) => void;
  /** After each tile (of every pass) of the current file. */
  onTile?: (done: number, total: number) => void;
  /** After a file left uncorrected by onlyBlurred, with its focus score. */
  onSharp?: (job: Job, focus: number) => void;
  /** After each file that was written; `result` is its last page's, `pages` how many it had. */
  onWritten?: (job: Job, result: CorrectedImage, pages: number) => void;
}

export interface CorrectFilesResult {
  settings: CorrectSettings;
  config: RunConfig;
  /** Jobs planned (written, or listed by a dry run). */
  jobs: Job[];
  written: Job[];
  /** This shard's inputs that its manifest already records (skipped). */
  done: number;
  /** Outputs that existed (--skip-existing) and images left uncorrected as sharp (--only-blurred). */
  existing: Job[];
  sharp: Job[];
  failures: Failure[];
}

/** Throws unless dir is (or can be made) a writable folder. */
function prepareOutDir(dir: string, create: boolean): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    st = null;
  }
  if (st && !st.isDirectory()) throw new Error(`output folder ${dir} is a file`);
  if (!st) {
    if (!create) return;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create output folder ${dir}: ${fsCause(err)}`);
    }
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new Error(`output folder ${dir} is not writable: ${fsCause(err)}`);
  }
}

/** The image's focus score; null where it cannot be measured (too small) and the batch does not depend on it. */
async function focusScore(img: Image, required: boolean): Promise<number | null> {
  try {
    return (await imageFocus(img))[DEFAULT_FOCUS_MEASURE];
  } catch (err) {
    if (required) throw err;
    return null;
  }
}

/**
 * Corrects files into a folder: the library form of `comi correct`. Problems with single files (unreadable,
 * unsupported, output exists, cannot be written) are collected in `failures` while the others go on; problems
 * with the model or the output folder throw.
 */
export async function correctFiles(opts: CorrectFilesOptions): Promise<CorrectFilesResult> {
  const { model, inputs, out } = opts;
  const config = readRunConfig(model); // fails early (no GPU) on a missing or foreign folder
  const { normalization, percentiles, dtype, tile, stats, tta, precision, mapMemory } = opts;
  const settings = runSettings(config, { normalization, percentiles, dtype, tile, stats, tta, precision, mapMemory });
  const modelName = basename(resolve(model));
  const shard = opts.shard ?? { index: 0, count: 1 };
  const expanded = expandInputs(inputs);
  const keyOf = new Map(expanded.files.map((f, i) => [f, expanded.keys[i]]));
  const mine = (file: string) => shardOf(keyOf.get(file)!, shard.count) === shard.index;
  // Output names are checked against every input, not only this shard's, so all shards agree on who writes what;
  // existing outputs are looked at below, once the manifest has said which inputs are done.
  const plan = planJobs(expanded.files, out, opts.name ?? DEFAULT_NAME_PATTERN, settings.dtype, modelName, true);
  const failures = [...expanded.failures, ...plan.failures.filter((f) => !keyOf.has(f.file) || mine(f.file))];
  const manifest = opts.manifest === undefined ? null : new Manifest(manifestFile(opts.manifest, shard));
  const recorded = new Set(manifest?.entries.map((e) => e.input));
  const result: CorrectFilesResult = { settings, config, jobs: [], written: [], done: 0, existing: [], sharp: [], failures };
  for (const job of plan.jobs.filter((j) => mine(j.input))) {
    if (recorded.has(keyOf.get(job.input)!)) result.done++;
    else if (opts.overwrite || !existsSync(job.output)) result.jobs.push(job);
    else if (opts.skipExisting) result.existing.push(job);
    else failures.push({ file: job.input, message: outputExists(job.output) });
  }
  if (opts.dryRun) {
    prepareOutDir(out, false);
    opts.onPlan?.(result);
    return result;
  }
  const record = (job: Job, action: ManifestEntry['action'], focus: number | null) => manifest?.append({
    input: keyOf.get(job.input)!, sha256: sha256File(job.input), action,
    output: action === 'sharp' ? null : relative(out, job.output).split('\\').join('/'),
    outputSha256: action === 'sharp' ? null : sha256File(job.output),
    model: modelName, focus, measure: focus === null ? null : DEFAULT_FOCUS_MEASURE, time: new Date().toISOString(), host: hostname(),
  });
  for (const job of result.existing) record(job, 'existing', null);
  if (result.jobs.length === 0) {
    prepareOutDir(out, false);
    opts.onPlan?.(result);
    return result;
  }
  // The model is loaded (and checked) before the output folder is created.
  const { generator, config: loaded } = await loadGenerator(model);
  result.config = loaded; // what the banner shows is the generator that corrects, not config.json
  try {
    if (settings.precision === 'f16') rt().requireF16('--precision f16'); // once for the batch, not per file
    prepareOutDir(out, true);
    removeStaleTempFiles(out);
    opts.onPlan?.(result);
    for (const [i, job] of result.jobs.entries()) {
      opts.onFile?.(i, result.jobs.length, job);
      try {
        // Every plane of a stack is corrected on its own (its own percentiles), and the stack written back whole;
        // --only-blurred judges a stack by its first plane.
        const { pages, meta } = await readStack(job.input);
        const focus = manifest || opts.onlyBlurred !== undefined ? await focusScore(pages[0], opts.onlyBlurred !== undefined) : null;
        if (focus !== null && opts.onlyBlurred !== undefined && focus >= opts.onlyBlurred) {
          record(job, 'sharp', focus);
          result.sharp.push(job);
          opts.onSharp?.(job, focus);
          continue;
        }
        const corrected: Image[] = [];
        let r: CorrectedImage | undefined;
        for (const [k, page] of pages.entries()) {
          r = await correctImage(generator, page, settings, opts.onTile && ((done, total) => opts.onTile!(k * total + done, pages.length * total)));
          if (r.retries > 0) settings.tile = r.tile; // the next images start with the tile that fitted
          corrected.push(r.image);
        }
        const undoDirs = makeParentDirs(job.output);
        await writeStack(job.output, { pages: corrected, meta }, pages[0].bitDepth).catch((err) => {
          undoDirs();
          throw err;
        });
        record(job, 'corrected', focus);
        result.written.push(job);
        opts.onWritten?.(job, r!, pages.length);
      } catch (err) {
        failures.push({ file: job.input, message: (err as Error).message });
      }
    }
  } finally {
    generator.dispose();
  }
  return result;
}
