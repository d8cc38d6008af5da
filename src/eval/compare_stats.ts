// Statistics of `comi compare`: per-method mean ± std over repeats, paired per-image differences with Student-t
// 95 % intervals, and a breakdown by defocus read from file names.

export const SCORE_KEYS = ['psnr', 'ssim', 'pcc'] as const;
export type ScoreKey = (typeof SCORE_KEYS)[number];
export type Scores = Record<ScoreKey, number>;

/** One method's scores on one test image in one repeat. */
export interface ScoreRow { method: string; repeat: number; image: string; scores: Scores }

/** Two-sided 95 % Student-t quantiles for 1–30 degrees of freedom; the normal 1.96 beyond. */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093,
  2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
export const t95 = (df: number): number => (df < 1 ? NaN : df <= 30 ? T95[df - 1] : 1.96);

export function meanStd(xs: number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, std, n };
}

/** The defocus of a test image from its name (…_z-36.00.png → 36), or null. */
export function defocusOf(image: string): number | null {
  const m = image.match(/_z(-?\d+(?:\.\d+)?)(?:um)?\.[a-z]+$/i);
  return m ? Math.abs(Number(m[1])) : null;
}

/** The bin label of |z| over ascending edges, e.g. '5–15'. */
export function binOf(z: number | null, edges: number[]): string {
  if (z === null) return 'all';
  for (let i = 0; i + 1 < edges.length; i++) if (z >= edges[i] && z < edges[i + 1]) return `${edges[i]}–${edges[i + 1]}`;
  return `≥${edges.at(-1)}`;
}

export interface MethodSummary {
  method: string;
  bin: string;
  /** Images in the bin. */
  images: number;
  repeats: number;
  /** Mean over the repeats of each repeat's mean over images, and the std of those repeat means. */
  mean: Scores;
  std: Scores;
}

export interface PairedDiff {
  method: string;
  baseline: string;
  bin: string;
  images: number;
  /** Mean over images of (method − baseline), each image's method score averaged over repeats, with its 95 % CI. */
  mean: Scores;
  lo: Scores;
  hi: Scores;
}

const byKey = (f: (k: ScoreKey) => number): Scores => Object.fromEntries(SCORE_KEYS.map((k) => [k, f(k)])) as Scores;

/** Rows of one method restricted to the images in `keep`, as image → repeat-averaged scores. */
function imageMeans(rows: ScoreRow[], method: string, keep: (image: string) => boolean): Map<string, Scores> {
  const acc = new Map<string, Scores[]>();
  for (const r of rows) {
    if (r.method !== method || !keep(r.image)) continue;
    if (!acc.has(r.image)) acc.set(r.image, []);
    acc.get(r.image)!.push(r.scores);
  }
  return new Map([...acc].map(([img, list]) => [img, byKey((k) => meanStd(list.map((s) => s[k])).mean)]));
}

export function summarize(rows: ScoreRow[], methods: string[], edges: number[]): { summary: MethodSummary[]; diffs: PairedDiff[] } {
  const bins = ['all', ...new Set(rows.map((r) => binOf(defocusOf(r.image), edges)).filter((b) => b !== 'all'))].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : parseFloat(a.replace('≥', '')) - parseFloat(b.replace('≥', ''))));
  const inBin = (bin: string) => (image: string) => bin === 'all' || binOf(defocusOf(image), edges) === bin;
  const summary: MethodSummary[] = [];
  const diffs: PairedDiff[] = [];
  for (const bin of bins) {
    for (const method of methods) {
      const mine = rows.filter((r) => r.method === method && inBin(bin)(r.image));
      if (mine.length === 0) continue;
      const repeats = [...new Set(mine.map((r) => r.repeat))].sort((a, b) => a - b);
      const perRepeat = repeats.map((k) => byKey((key) => meanStd(mine.filter((r) => r.repeat === k).map((r) => r.scores[key])).mean));
      summary.push({
        method, bin, images: new Set(mine.map((r) => r.image)).size, repeats: repeats.length,
        mean: byKey((k) => meanStd(perRepeat.map((s) => s[k])).mean),
        std: byKey((k) => meanStd(perRepeat.map((s) => s[k])).std),
      });
    }
    for (const method of methods) {
      const a = imageMeans(rows, method, inBin(bin));
      for (const baseline of methods) {
        if (baseline === method) continue;
        const b = imageMeans(rows, baseline, inBin(bin));
        const shared = [...a.keys()].filter((img) => b.has(img));
        if (shared.length === 0) continue;
        const stats = byKey(() => 0);
        const lo = byKey(() => 0);
        const hi = byKey(() => 0);
        for (const k of SCORE_KEYS) {
          const d = meanStd(shared.map((img) => a.get(img)![k] - b.get(img)![k]));
          const half = shared.length > 1 ? t95(shared.length - 1) * d.std / Math.sqrt(shared.length) : NaN;
          stats[k] = d.mean;
          lo[k] = d.mean - half;
          hi[k] = d.mean + half;
        }
        diffs.push({ method, baseline, bin, images: shared.length, mean: stats, lo, hi });
      }
    }
  }
  return { summary, diffs };
}
