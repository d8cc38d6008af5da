// `comi focus`: focus scores per image and per tile, and which images need correction (src/focus/focus.ts).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { choice, num, parseFlags, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { Progress } from './progress.js';
import { expandInputs, type Failure } from '../correct/files.js';
import { fileFocus, DEFAULT_FOCUS_BIN, DEFAULT_FOCUS_MEASURE, DEFAULT_FOCUS_TILE, FOCUS_MEASURES, FOCUS_THRESHOLDS, type FocusMeasure, type FocusScores } from '../focus/focus.js';
import { writeFileAtomic } from '../io/atomic.js';

const FLAGS: FlagSpec = {
  out: { type: 'string' },
  measure: { type: 'string' },
  threshold: { type: 'string' },
  tile: { type: 'string' },
  bin: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const HELP = `usage: comi focus --out FILE.csv [options] INPUT...

Scores how sharp each image (and each tile of it) is and flags those that need correction. INPUT: image files,
folders or quoted globs. Measures, each divided by the squared mean intensity (gain-invariant): nvl (variance of
the Laplacian), tenengrad (mean squared Sobel gradient), brenner (mean squared difference two pixels apart).

  --out FILE.csv     one row per image (region image) and per tile (region tile): path, region, x, y, width,
                     height, nvl, tenengrad, brenner, needs_correction
  --measure M        ${FOCUS_MEASURES.join(' | ')}: the score compared with the threshold (default ${DEFAULT_FOCUS_MEASURE})
  --threshold T      below T an image or tile needs correction (default, calibrated on BBBC006 at --bin 4:
                     ${FOCUS_MEASURES.map((m) => `${m} ${FOCUS_THRESHOLDS[m]}`).join(', ')})
  --tile PX          tile edge in pixels (default ${DEFAULT_FOCUS_TILE})
  --bin N            average N×N pixels before measuring, a power of two (default ${DEFAULT_FOCUS_BIN}; the thresholds
                     hold for ${DEFAULT_FOCUS_BIN})
`;

export interface FocusFlags {
  out: string;
  inputs: string[];
  measure: FocusMeasure;
  threshold: number;
  tile: number;
  bin: number;
}

export function parseFocusFlags(argv: string[]): FocusFlags | null {
  const { values, positionals } = parseFlags(argv, FLAGS, true);
  if (values.help) return null;
  const out = str(values, 'out');
  if (!out) throw new UsageError('--out FILE.csv is required');
  if (positionals.length === 0) throw new UsageError('no input images given (files, folders or globs after the options)');
  const measure = choice<FocusMeasure>(values, 'measure', FOCUS_MEASURES, DEFAULT_FOCUS_MEASURE);
  const bin = num(values, 'bin', DEFAULT_FOCUS_BIN, { min: 1, int: true });
  if (!Number.isInteger(Math.log2(bin))) throw new UsageError(`--bin must be a power of two, got '${values.bin}'`);
  const tile = num(values, 'tile', DEFAULT_FOCUS_TILE, { min: bin, int: true });
  if (tile % bin !== 0) throw new UsageError(`--tile must be a multiple of --bin ${bin}, got '${values.tile}'`);
  const threshold = num(values, 'threshold', FOCUS_THRESHOLDS[measure], { min: 0, minExclusive: true });
  return { out, inputs: positionals, measure, threshold, tile, bin };
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

function row(path: string, region: string, r: { x: number; y: number; width: number; height: number } & FocusScores, flag: boolean): string {
  const scores = FOCUS_MEASURES.map((m) => r[m].toPrecision(6));
  return [csvField(path), region, r.x, r.y, r.width, r.height, ...scores, flag ? 1 : 0].join(',');
}

export async function focusCommand(argv: string[]): Promise<void> {
  const opts = parseFocusFlags(argv);
  if (!opts) {
    process.stdout.write(HELP);
    return;
  }
  const { files, failures } = expandInputs(opts.inputs);
  const lines = [`path,region,x,y,width,height,${FOCUS_MEASURES.join(',')},needs_correction`];
  const progress = new Progress('focus', files.length);
  let flagged = 0;
  const errors: Failure[] = [...failures];
  for (const [i, file] of files.entries()) {
    try {
      const f = await fileFocus(file, { tile: opts.tile, bin: opts.bin });
      const needs = f[opts.measure] < opts.threshold;
      if (needs) flagged++;
      lines.push(row(file, 'image', { x: 0, y: 0, ...f }, needs));
      for (const t of f.tiles) lines.push(row(file, 'tile', t, t[opts.measure] < opts.threshold));
    } catch (err) {
      errors.push({ file, message: (err as Error).message });
    }
    progress.update(i + 1);
  }
  if (files.length) progress.done();
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileAtomic(opts.out, `${lines.join('\n')}\n`);
  const scored = files.length - (errors.length - failures.length);
  process.stdout.write(`${scored} image(s) scored into ${opts.out}: ${flagged} need correction (${opts.measure} < ${opts.threshold})\n`);
  for (const f of errors) process.stderr.write(`failed: ${f.file}: ${f.message}\n`);
  if (errors.length) throw new Error(`${errors.length} input(s) failed (listed above)`);
}
