// The QC report: one self-contained HTML file (montages embedded as PNG data URIs, loss curves as inline SVG, no
// scripts, no external resources) that any browser opens from disk or as an e-mail attachment.
import type { LogEntry } from '../train/log.js';
import { METRICS, METRIC_LABELS, CONVENTIONS, meanPmStd, type ImageResult, type SummaryRow } from '../eval/evaluate.js';
import type { Failure } from '../correct/files.js';

export interface ReportImage {
  result: ImageResult;
  /** PNG bytes of the montage and where it was written, relative to the report. */
  png: Uint8Array;
  /** Montage width in pixels. */
  width: number;
  file: string;
  panels: string[];
  displayRange: [number, number];
  errorScale: number;
  shrink: number;
}

export interface ReportInput {
  title: string;
  /** Lines describing what was evaluated (model, data, data range, …). */
  notes: string[];
  summary: SummaryRow[];
  images: ReportImage[];
  /** The run's training log, when known. */
  log: LogEntry[] | null;
  failures: Failure[];
}

const MIN_SHOWN_WIDTH = 640;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const DIGITS = { psnr: 2, ssimSkimage: 4, ssimWang: 4, pcc: 4 } as const;
const num = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
const short = (v: number) => (Math.abs(v) >= 1e7 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4))));

/** One small SVG line chart per loss term, iterations on x. */
export function lossCharts(log: LogEntry[]): string {
  const keys = [...new Set(log.flatMap((e) => Object.keys(e.losses ?? {})))].filter((k) => log.some((e) => Number.isFinite((e.losses as unknown as Record<string, number>)[k])));
  const W = 300;
  const H = 150;
  const pad = { l: 52, r: 8, t: 20, b: 26 };
  const xs = log.map((e) => e.iteration);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  return keys.map((k) => {
    const pts = log.map((e) => [e.iteration, (e.losses as unknown as Record<string, number>)[k]] as const).filter(([, v]) => Number.isFinite(v));
    const ys = pts.map(([, v]) => v);
    const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (W - pad.l - pad.r);
    const sy = (y: number) => H - pad.b - ((y - y0) / (y1 - y0 || 1)) * (H - pad.t - pad.b);
    const line = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    return `<svg class="loss" data-loss="${esc(k)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(k)} loss">`
      + `<text x="${pad.l}" y="14" class="t">${esc(k)}</text>`
      + `<rect x="${pad.l}" y="${pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" class="frame"/>`
      + `<polyline points="${line}" class="curve"/>`
      + `<text x="${pad.l - 4}" y="${pad.t + 8}" class="y">${short(y1)}</text><text x="${pad.l - 4}" y="${H - pad.b}" class="y">${short(y0)}</text>`
      + `<text x="${pad.l}" y="${H - 8}" class="x0">${x0}</text><text x="${W - pad.r}" y="${H - 8}" class="x1">${x1} it</text></svg>`;
  }).join('\n');
}

function summaryTable(summary: SummaryRow[]): string {
  const head = `<tr><th>Set</th><th>Images</th><th>Compared</th>${METRICS.map((k) => `<th>${METRIC_LABELS[k]}</th>`).join('')}</tr>`;
  const rows = summary.map((s) => `<tr class="${s.kind}"><td>${esc(s.group)}</td><td>${s.n}</td><td>${s.kind === 'corrected' ? 'corrected' : 'input (baseline)'}</td>`
    + `${METRICS.map((k) => `<td>${meanPmStd(s, k)}</td>`).join('')}</tr>`).join('\n');
  const caption = summary.length ? `<caption>scores in the ${summary[0].convention} convention</caption>` : '';
  return `<table id="summary">${caption}<thead>${head}</thead><tbody>\n${rows}\n</tbody></table>`;
}

function imageSection(img: ReportImage, index: number): string {
  const r = img.result;
  const rows = (['corrected', 'input'] as const).filter((k) => r[k]).map((k) => `<tr><td>${k === 'corrected' ? 'corrected' : 'input (baseline)'}</td>`
    + `${METRICS.map((m) => `<td>${num(r[k]![m], DIGITS[m])}</td>`).join('')}</tr>`).join('');
  const b64 = Buffer.from(img.png).toString('base64');
  // small montages are enlarged (pixelated) to a readable width
  const zoom = Math.max(1, Math.floor(MIN_SHOWN_WIDTH / img.width));
  const [lo, hi] = img.displayRange;
  return `<section class="sample" id="image-${index}">
<h3>${esc(r.image)}${r.group ? ` <small>(${esc(r.group)})</small>` : ''}</h3>
<figure><img src="data:image/png;base64,${b64}"${zoom > 1 ? ` width="${zoom * img.width}"` : ''} alt="${esc(`${img.panels.join(' | ')} of ${r.image}`)}">
<figcaption>${esc(img.panels.join(' | '))}. Intensities ${short(lo)}–${short(hi)} (ground truth 0.1–99.9 percentiles) shown black to white;
error 0–${short(img.errorScale)} shown dark to bright (magma)${img.shrink > 1 ? `; shrunk ${img.shrink}×` : ''}. Montage file: ${esc(img.file)}.</figcaption></figure>
<table class="metrics"><caption>scores in the ${r.convention} convention</caption><thead><tr><th>Compared</th>${METRICS.map((k) => `<th>${METRIC_LABELS[k]}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>
<p class="files">${r.convention} convention, data range ${r.dataRange}; prediction ${esc(r.files.pred)}; ground truth ${esc(r.files.truth)}${r.files.input ? `; input ${esc(r.files.input)}` : ''}</p>
</section>`;
}

export function renderReport(r: ReportInput): string {
  const losses = r.log && r.log.length > 1 ? `<div id="losses">${lossCharts(r.log)}</div>` : '<p id="losses">No training log (log.jsonl) was given.</p>';
  const failures = r.failures.length
    ? `<h2>Failures</h2><ul id="failures">${r.failures.map((f) => `<li>${esc(f.file)}: ${esc(f.message)}</li>`).join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } tr.input td { color: #666; }
figure { margin: 0.5em 0; } figure img { max-width: 100%; image-rendering: pixelated; }
figcaption, .files, .notes { color: #555; font-size: 12px; }
svg.loss { margin: 4px; } svg .frame { fill: none; stroke: #bbb; } svg .curve { fill: none; stroke: #c0392b; stroke-width: 1.5; }
svg text { font-size: 11px; fill: #444; } svg .y { text-anchor: end; } svg .x1 { text-anchor: end; } svg .t { font-weight: bold; }
section.sample { border-top: 1px solid #ddd; padding-top: 0.5em; }
</style></head>
<body>
<h1>${esc(r.title)}</h1>
<ul class="notes">${[...r.notes, CONVENTIONS, 'mean ± sample standard deviation over images'].map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<h2>Summary</h2>
${summaryTable(r.summary)}
<h2>Training losses</h2>
${losses}
<h2>Images</h2>
${r.images.map(imageSection).join('\n')}
${failures}
</body></html>
`;
}
