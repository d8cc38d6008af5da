// Evaluation of corrected images against ground truth: per image PSNR, SSIM in both conventions and PCC for the
// prediction and for the uncorrected input (the baseline), mean ± std per plane of a z-stack and over all images,
// written as CSV, JSON and a Markdown table. Metrics are those of metrics.ts (equal to scikit-image 0.19.3), in
// the normalized convention of convention.ts or on the files' raw pixel values with a data range; both stated.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { IMAGE_EXTENSIONS, type Image } from '../data/image.js';
import { fileIndex } from '../data/dataset.js';
import { checkFiniteImage } from '../data/finite.js';
import { isDir, isImage, type Failure } from '../correct/files.js';
import { writeFileAtomic } from '../io/atomic.js';
import { psnr, ssim, pcc } from './metrics.js';
import { normalizeTruth, normalizeMinMse, normalizedConventionNote } from './convention.js';

/** 'dtype': the ground truth's full integer range (255, 65535); 'truth': its max − min per image; or a number. */
export type DataRangeChoice = 'dtype' | 'truth' | number;

/** 'normalized': convention.ts (the field's convention, data range 1); 'raw': the files' values and a data range. */
export type Convention = 'normalized' | 'raw';
export const CONVENTION_CHOICES: readonly Convention[] = ['normalized', 'raw'];
export type Scoring = { convention: 'normalized' } | { convention: 'raw'; dataRange: DataRangeChoice };

/** Default: normalized, or raw when a data range is given (raw's default range: 'dtype'). */
export function resolveScoring(convention: Convention | undefined, dataRange: DataRangeChoice | undefined): Scoring {
  const c = convention ?? (dataRange === undefined ? 'normalized' : 'raw');
  if (c === 'normalized') {
    if (dataRange !== undefined) throw new Error('a data range applies to the raw convention only (the normalized convention uses 1)');
    return { convention: c };
  }
  if (c !== 'raw') throw new Error(`convention must be normalized or raw, got ${c}`);
  return { convention: c, dataRange: dataRange ?? 'dtype' };
}

/** One line naming the scoring of a whole evaluation, for notes. */
export function scoringNote(s: Scoring): string {
  if (s.convention === 'normalized') return `scores: ${normalizedConventionNote()}`;
  const r = s.dataRange;
  return `scores: raw pixel values, data range ${typeof r === 'number' ? r : r === 'dtype' ? "the ground truth's full integer range (255 for 8-bit, 65535 for 16-bit)" : "each ground truth's max − min"}`;
}

export const METRICS = ['psnr', 'ssimSkimage', 'ssimWang', 'pcc'] as const;
export type MetricName = (typeof METRICS)[number];
export const METRIC_LABELS: Record<MetricName, string> = {
  psnr: 'PSNR (dB)', ssimSkimage: 'SSIM (skimage)', ssimWang: 'SSIM (Wang)', pcc: 'PCC',
};
export const CONVENTIONS = 'SSIM (skimage): scikit-image defaults, 7×7 uniform window, sample covariance; '
  + 'SSIM (Wang): Gaussian window σ = 1.5 (11×11), population covariance (Wang et al. 2004); '
  + 'PSNR and SSIM in the convention and with the data range given per table and image; PCC: Pearson r over all pixels and channels';

export type Metrics = Record<MetricName, number>;

/** One evaluated image: the corrected image and (when an input was given) the uncorrected baseline. */
export interface ImageResult {
  /** Name shown in tables: the prediction's path relative to its folder. */
  image: string;
  /** Plane (z-stack folder) or '' when there is one group. */
  group: string;
  convention: Convention;
  /** 1 in the normalized convention. */
  dataRange: number;
  corrected: Metrics;
  input: Metrics | null;
  files: { pred: string; truth: string; input: string | null };
}

export interface SummaryRow {
  /** A plane, or 'all'. */
  group: string;
  kind: 'corrected' | 'input';
  convention: Convention;
  n: number;
  mean: Metrics;
  /** Sample standard deviation over images (n − 1 in the denominator); NaN for one image. */
  std: Metrics;
}

const size = (img: Image) => `${img.width}×${img.height}×${img.channels} (${img.bitDepth === 32 ? 'float32' : `${img.bitDepth}-bit`})`;

/** Throws a one-line message unless a and b can be compared pixel for pixel. */
export function checkComparable(a: Image, aName: string, b: Image, bName: string): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(`size mismatch: ${aName} is ${size(a)}, ${bName} is ${size(b)}`);
  }
  if (a.bitDepth !== 32 && b.bitDepth !== 32 && a.bitDepth !== b.bitDepth) {
    throw new Error(`bit depth mismatch: ${aName} is ${size(a)}, ${bName} is ${size(b)}; compare images of one scale (comi correct --dtype same)`);
  }
}

export function dataRangeFor(truth: Image, choice: DataRangeChoice, name: string): number {
  if (typeof choice === 'number') return choice;
  if (choice === 'dtype') {
    if (truth.bitDepth === 32) throw new Error(`${name} is a float image: give --data-range truth or a number`);
    return truth.bitDepth === 8 ? 255 : 65535;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < truth.data.length; i++) {
    lo = Math.min(lo, truth.data[i]);
    hi = Math.max(hi, truth.data[i]);
  }
  if (!(hi > lo)) throw new Error(`${name} is constant: its range (max − min) cannot be the data range`);
  return hi - lo;
}

export function measure(pred: Image, truth: Image, dataRange: number): Metrics {
  return {
    psnr: psnr(pred, truth, { dataRange }),
    ssimSkimage: ssim(pred, truth, { dataRange, convention: 'skimage' }),
    ssimWang: ssim(pred, truth, { dataRange, convention: 'wang' }),
    pcc: pcc(pred, truth),
  };
}

/** Metrics of one sample; throws a one-line message on mismatched sizes or bit depths. */
export function evaluateSample(s: { image: string; group: string; pred: Image; truth: Image; input: Image | null; files: ImageResult['files'] }, scoring: Scoring): ImageResult {
  checkFiniteImage(s.truth, `ground truth ${s.files.truth}`, 'metrics need finite values');
  checkFiniteImage(s.pred, `prediction ${s.files.pred}`, 'metrics need finite values');
  if (s.input) checkFiniteImage(s.input, `input ${s.files.input}`, 'metrics need finite values');
  checkComparable(s.pred, `prediction ${s.files.pred}`, s.truth, `ground truth ${s.files.truth}`);
  if (s.input) checkComparable(s.input, `input ${s.files.input}`, s.truth, `ground truth ${s.files.truth}`);
  const { image, group, files, truth } = s;
  if (scoring.convention === 'normalized') {
    let t: Float32Array;
    try {
      t = normalizeTruth(truth);
    } catch (err) {
      throw new Error(`ground truth ${files.truth}: ${(err as Error).message}`);
    }
    const truthN = { ...truth, data: t };
    const score = (img: Image) => measure({ ...truth, data: normalizeMinMse(img.data, t) }, truthN, 1);
    return { image, group, convention: 'normalized', dataRange: 1, files, corrected: score(s.pred), input: s.input ? score(s.input) : null };
  }
  const dataRange = dataRangeFor(truth, scoring.dataRange, `ground truth ${files.truth}`);
  return {
    image, group, convention: 'raw', dataRange, files,
    corrected: measure(s.pred, truth, dataRange),
    input: s.input ? measure(s.input, truth, dataRange) : null,
  };
}

function meanStd(values: number[]): [number, number] {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return [mean, NaN];
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return [mean, Math.sqrt(v)];
}

/** mean ± std per group (in order of appearance) and over all images when there is more than one group. */
export function summarize(results: ImageResult[]): SummaryRow[] {
  const convention = results[0]?.convention;
  if (results.some((r) => r.convention !== convention)) throw new Error('summarize: the results mix the normalized and raw conventions');
  const groups = [...new Set(results.map((r) => r.group))];
  const sets: [string, ImageResult[]][] = groups.map((g) => [g, results.filter((r) => r.group === g)]);
  if (groups.length > 1 || groups[0] !== '') sets.push(['all', results]);
  const rows: SummaryRow[] = [];
  for (const [group, rs] of sets) {
    for (const kind of ['corrected', 'input'] as const) {
      const ms = rs.map((r) => r[kind]).filter((m): m is Metrics => m !== null);
      if (ms.length === 0) continue;
      const mean = {} as Metrics;
      const std = {} as Metrics;
      for (const k of METRICS) [mean[k], std[k]] = meanStd(ms.map((m) => m[k]));
      rows.push({ group: group === '' ? 'all' : group, kind, convention, n: ms.length, mean, std });
    }
  }
  return rows;
}

// ---- pairing prediction, ground truth and input files ----

const stem = (f: string) => basename(f, extname(f));

function images(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => isImage(f) && statSync(join(dir, f)).isFile()).sort();
  } catch {
    return [];
  }
}

/** A partner of `file` (from folder `group`) in `dir`: same relative name, else same stem in dir/group or dir,
 * else the only file there with the same last number. */
function findPartner(dir: string, group: string, file: string): string | null {
  for (const d of group ? [join(dir, group), dir] : [dir]) {
    const list = images(d);
    const byStem = list.filter((f) => stem(f) === stem(file));
    if (byStem.length === 1) return join(d, byStem[0]);
    const index = fileIndex(file);
    if (index === null) continue;
    const byIndex = list.filter((f) => fileIndex(f) === index);
    if (byIndex.length === 1) return join(d, byIndex[0]);
  }
  return null;
}

export interface FilePair {
  image: string;
  group: string;
  pred: string;
  truth: string;
  input: string | null;
}

/**
 * Pairs every image in predDir (and in its subfolders one level down, one group per subfolder, e.g. z-stack
 * planes) with its ground truth in truthDir and, when inputDir is given, its uncorrected input.
 */
export function pairFiles(predDir: string, truthDir: string, inputDir: string | null): { pairs: FilePair[]; failures: Failure[] } {
  for (const [flag, d] of [['--pred', predDir], ['--truth', truthDir], ['--input', inputDir]] as const) {
    if (d !== null && !isDir(d)) throw new Error(`${flag} ${d} is not a folder`);
  }
  const preds: { group: string; file: string }[] = images(predDir).map((file) => ({ group: '', file }));
  for (const sub of readdirSync(predDir).filter((f) => !f.startsWith('.') && isDir(join(predDir, f))).sort()) {
    preds.push(...images(join(predDir, sub)).map((file) => ({ group: sub, file })));
  }
  if (preds.length === 0) throw new Error(`--pred ${predDir} has no images (${IMAGE_EXTENSIONS.join(', ')})`);
  const pairs: FilePair[] = [];
  const failures: Failure[] = [];
  for (const { group, file } of preds) {
    const pred = join(predDir, group, file);
    const truth = findPartner(truthDir, group, file);
    if (!truth) {
      failures.push({ file: pred, message: `no ground truth in ${truthDir} with the same name or number` });
      continue;
    }
    let input: string | null = null;
    if (inputDir !== null) {
      input = findPartner(inputDir, group, file);
      if (!input) {
        failures.push({ file: pred, message: `no input image in ${inputDir} with the same name or number` });
        continue;
      }
    }
    pairs.push({ image: relative(predDir, pred), group, pred, truth, input });
  }
  return { pairs, failures };
}

// ---- output files ----

export const RESULT_FILES = ['metrics.csv', 'metrics.json', 'metrics.md'];

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
const DIGITS: Record<MetricName, number> = { psnr: 2, ssimSkimage: 4, ssimWang: 4, pcc: 4 };
const csvNum = (v: number) => (Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function toCsv(results: ImageResult[]): string {
  const head = ['image', 'group', 'kind', 'psnr', 'ssim_skimage', 'ssim_wang', 'pcc', 'convention', 'data_range', 'file', 'truth'];
  const lines = [head.join(',')];
  for (const r of results) {
    for (const kind of ['corrected', 'input'] as const) {
      const m = r[kind];
      if (!m) continue;
      const file = kind === 'corrected' ? r.files.pred : r.files.input!;
      lines.push([csvField(r.image), csvField(r.group), kind, ...METRICS.map((k) => csvNum(m[k])), r.convention, String(r.dataRange), csvField(file), csvField(r.files.truth)].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** mean ± std as in the paper's tables. */
export function meanPmStd(row: SummaryRow, k: MetricName): string {
  return `${fmt(row.mean[k], DIGITS[k])}${Number.isNaN(row.std[k]) ? '' : ` ± ${fmt(row.std[k], DIGITS[k])}`}`;
}

export function toMarkdown(results: ImageResult[], summary: SummaryRow[], notes: string[]): string {
  const grouped = results.some((r) => r.group !== '');
  const lines = [
    '# Evaluation', '',
    ...notes.map((n) => `- ${n}`),
    `- ${CONVENTIONS}`,
    '- mean ± sample standard deviation over images; the input rows are the uncorrected images (baseline)', '',
    ...(summary.length ? [`Scores in the ${summary[0].convention} convention (see above):`, ''] : []),
    `| ${grouped ? 'Plane' : 'Set'} | Images | Compared | ${METRICS.map((k) => METRIC_LABELS[k]).join(' | ')} |`,
    `|---|---:|---|${METRICS.map(() => '---:').join('|')}|`,
    ...summary.map((s) => `| ${s.group} | ${s.n} | ${s.kind === 'corrected' ? 'corrected' : 'input (baseline)'} | ${METRICS.map((k) => meanPmStd(s, k)).join(' | ')} |`),
    '', '## Per image', '',
    `| Image | Compared | Convention | Data range | ${METRICS.map((k) => METRIC_LABELS[k]).join(' | ')} |`,
    `|---|---|---|---:|${METRICS.map(() => '---:').join('|')}|`,
  ];
  for (const r of results) {
    for (const kind of ['corrected', 'input'] as const) {
      const m = r[kind];
      if (m) lines.push(`| ${r.image.replace(/\|/g, '\\|')} | ${kind} | ${r.convention} | ${r.dataRange} | ${METRICS.map((k) => fmt(m[k], DIGITS[k])).join(' | ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** JSON has no Infinity / NaN: they are written as the strings 'Infinity', '-Infinity', 'NaN'. */
export function toJson(doc: unknown): string {
  return `${JSON.stringify(doc, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1)}\n`;
}

/** Throws unless dir is a folder (created if missing) without the result files, or overwrite is set. */
export function checkOutDir(dir: string, files: string[], overwrite: boolean): void {
  if (existsSync(dir) && !isDir(dir)) throw new Error(`--out ${dir} is a file, not a folder`);
  if (overwrite) return;
  const present = files.filter((f) => existsSync(join(dir, f)));
  if (present.length) throw new Error(`--out ${dir} already has ${present.join(', ')}; choose another folder or pass --overwrite`);
}

export function writeResults(dir: string, results: ImageResult[], summary: SummaryRow[], meta: Record<string, unknown>, notes: string[], failures: Failure[]): void {
  writeFileAtomic(join(dir, 'metrics.csv'), toCsv(results));
  writeFileAtomic(join(dir, 'metrics.json'), toJson({ ...meta, conventions: CONVENTIONS, images: results, summary, failures }));
  writeFileAtomic(join(dir, 'metrics.md'), toMarkdown(results, summary, notes));
}

