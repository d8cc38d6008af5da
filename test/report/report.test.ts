// The QC report: montages (panel layout, one intensity scale, error colour map) and the self-contained HTML page,
// opened in headless Chromium (Debian package `chromium`; skipped with a message when it is not installed), which
// must show every montage decoded at its size, the summary and per-image tables with the computed numbers, and
// the loss curves of the run's log.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, NO_CHROMIUM } from '../helpers/chromium.js';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { qcMontage, magma, absoluteError, MAX_PANEL_SIDE } from '../../src/report/montage.js';
import { lossCharts, renderReport } from '../../src/report/html.js';
import { evaluate } from '../../src/eval/qc.js';
import { meanPmStd, METRICS } from '../../src/eval/evaluate.js';
import { readImage, type Image } from '../../src/data/image.js';
import { percentiles } from '../../src/data/normalize.js';
import { writeRunConfig, runPaths } from '../../src/train/run_folder.js';
import { hash32 } from '../../src/graph/random.js';
import { runConfig } from '../correct/helpers.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'evaluate');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comi-report-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gray16(width: number, height: number, seed: number): Image {
  return { width, height, channels: 1, bitDepth: 16, data: Uint16Array.from({ length: width * height }, (_, i) => 1000 + (hash32(i, seed) % 3000)) };
}

describe('montage', () => {
  it('input | corrected | truth | error side by side on the truth percentiles; zero error is the colour map bottom', () => {
    const truth = gray16(30, 20, 1);
    const pred = { ...truth, data: truth.data.map((v, i) => (i % 3 === 0 ? v : v + 50)) };
    const input = gray16(30, 20, 2);
    const m = qcMontage(input, pred, truth);
    expect(m.panels).toEqual(['input', 'corrected', 'ground truth', '|error|']);
    expect([m.image.width, m.image.height, m.image.channels, m.image.bitDepth]).toEqual([4 * 30 + 3 * 8, 20, 3, 8]);
    const [lo, hi] = percentiles(truth, [0.1, 99.9]);
    expect(m.displayRange).toEqual([lo, hi]);
    const err = absoluteError(pred, truth);
    expect(m.errorScale).toBe(percentiles({ width: 30, height: 20, channels: 1, bitDepth: 32, data: err }, [99.9])[0]);
    const px = (panel: number, x: number, y: number) => [...m.image.data.subarray((y * m.image.width + panel * 38 + x) * 3, (y * m.image.width + panel * 38 + x) * 3 + 3)];
    for (const [x, y] of [[0, 0], [7, 3], [29, 19]]) {
      const i = y * 30 + x;
      const shown = Math.min(255, Math.max(0, Math.round(((truth.data[i] - lo) * 255) / (hi - lo))));
      expect(px(2, x, y)).toEqual([shown, shown, shown]);
      expect(px(3, x, y)).toEqual(magma(err[i] / m.errorScale));
    }
    expect(px(3, 0, 0)).toEqual(magma(0)); // pixel 0 is unchanged
    expect(m.image.data.subarray(30 * 3, 38 * 3).every((v) => v === 255)).toBe(true); // white gap
  });

  it(`shrinks large images so a panel side is at most ${MAX_PANEL_SIDE}; without an input there are three panels`, () => {
    const truth = gray16(2304, 1000, 3);
    const m = qcMontage(null, truth, truth);
    expect(m.shrink).toBe(3);
    expect(m.panels).toEqual(['corrected', 'ground truth', '|error|']);
    expect([m.image.width, m.image.height]).toEqual([3 * 768 + 2 * 8, 334]);
  });
});

describe('report page', () => {
  it('loss charts: one per loss term with every logged point; names and paths are escaped', () => {
    const log = [1, 2, 3, 4].map((it) => ({ iteration: it * 10, losses: { gAdv: 1 / it, gContent: 2, gCycle: 0.1, gTotal: 3, dT: 0.2, dS: 0.3 }, lr: 1e-4, seconds: it }));
    const svg = lossCharts(log);
    expect(svg.match(/<svg class="loss"/g)).toHaveLength(6);
    for (const poly of svg.match(/points="[^"]*"/g)!) expect(poly.split(' ')).toHaveLength(4);
    const html = renderReport({ title: 'T', notes: ['<b>&'], summary: [], images: [], log: null, failures: [{ file: 'x<y>.png', message: 'bad "quote"' }] });
    expect(html).toContain('&lt;b&gt;&amp;');
    expect(html).toContain('x&lt;y&gt;.png: bad &quot;quote&quot;');
    expect(html).not.toMatch(/<script|<link|src="(?!data:)/);
  });

  it.skipIf(!chromium)('opens in headless Chromium with every montage decoded, the tables and the loss curves', async () => {
    const run = join(dir, 'run');
    mkdirSync(run);
    writeRunConfig(run, runConfig({}));
    writeFileSync(runPaths(run).log, [10, 20, 30, 40, 50].map((it) => JSON.stringify({ iteration: it, losses: { gAdv: 1 / it, gContent: 0.5, gCycle: 0.01 * it, gTotal: 1, dT: 0.25, dS: 0.3 }, lr: 1e-4, seconds: it })).join('\n') + '\n');
    const out = join(dir, 'qc');
    const res = await evaluate({ pred: join(FIX, 'pred'), truth: join(FIX, 'truth'), input: join(FIX, 'input'), run, out });
    expect(res.failures).toEqual([]);
    // A probe page loads the report in a frame and records what the browser made of it.
    writeFileSync(join(out, 'probe.html'), `<!doctype html><html><body><iframe id="f" src="report.html" width="1200" height="800"></iframe><pre id="out">pending</pre>
<script>
window.addEventListener('load', () => {
  const d = document.getElementById('f').contentDocument;
  const cells = (t) => [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent));
  document.getElementById('out').textContent = JSON.stringify({
    title: d.title,
    images: [...d.images].map((i) => ({ alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width })),
    summary: cells(d.getElementById('summary')),
    perImage: [...d.querySelectorAll('section.sample')].map((s) => ({ name: s.querySelector('h3').textContent, rows: cells(s.querySelector('table.metrics')) })),
    losses: [...d.querySelectorAll('svg.loss')].map((s) => ({ name: s.dataset.loss, points: s.querySelector('polyline').points.numberOfItems, w: s.getBoundingClientRect().width })),
  });
});
</script></body></html>`);
    const r = spawnSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files', '--virtual-time-budget=10000', '--dump-dom', pathToFileURL(join(out, 'probe.html')).href], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const text = r.stdout.match(/<pre id="out">([\s\S]*?)<\/pre>/)![1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const page = JSON.parse(text);
    expect(page.title).toBe('COMI quality control');
    expect(page.images).toHaveLength(res.results.length);
    for (const [k, img] of page.images.entries()) {
      const montage = await readImage(join(out, res.written.filter((f) => f.startsWith('montages/'))[k]));
      expect(img).toMatchObject({ complete: true, w: montage.width, h: montage.height });
      expect(img.shown).toBeGreaterThan(0);
      expect(img.alt).toBe(`input | corrected | ground truth | |error| of ${res.results[k].image}`);
    }
    expect(page.summary).toEqual(res.summary.map((s) => [s.group, String(s.n), s.kind === 'corrected' ? 'corrected' : 'input (baseline)', ...METRICS.map((m) => meanPmStd(s, m))]));
    expect(page.perImage.map((s: { name: string }) => s.name)).toEqual(res.results.map((r) => `${r.image} (${r.group})`));
    for (const [k, s] of page.perImage.entries()) {
      const r = res.results[k];
      expect(s.rows.map((row: string[]) => row.map(Number).slice(1))).toEqual([
        METRICS.map((m) => Number(r.corrected[m].toFixed(m === 'psnr' ? 2 : 4))),
        METRICS.map((m) => Number(r.input![m].toFixed(m === 'psnr' ? 2 : 4))),
      ]);
    }
    expect(page.losses).toEqual(['gAdv', 'gContent', 'gCycle', 'gTotal', 'dT', 'dS'].map((name) => ({ name, points: 5, w: 300 })));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|src="(?!data:)/); // self-contained
  });
  if (!chromium) it.skip(NO_CHROMIUM, () => {});
});
