// Loss curves of training runs side by side (e.g. train --precision f32 and f16 from one seed): each logged loss that
// is not identically zero, averaged over windows of iterations (single steps are noisy), per run, and each run's
// difference from the first relative to the first's value.
//   node dist/bench/loss_curves.js [--window 100] RUN_A RUN_B [RUN_C …]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readLog, type LogEntry } from '../src/train/log.js';
import type { StepLosses } from '../src/model/cyclegan.js';
import { fmt, flag } from './harness.js';

type Key = keyof StepLosses;

/** Mean of each loss over consecutive windows of `window` iterations: [window end, means]. */
export function windowedLosses(log: LogEntry[], window: number): [number, Record<Key, number>][] {
  const windows = new Map<number, LogEntry[]>();
  for (const e of log) {
    const end = Math.ceil(e.iteration / window) * window;
    windows.set(end, [...(windows.get(end) ?? []), e]);
  }
  return [...windows].map(([end, entries]) => {
    const keys = Object.keys(entries[0].losses) as Key[];
    return [end, Object.fromEntries(keys.map((k) => [k, entries.reduce((s, e) => s + e.losses[k], 0) / entries.length])) as Record<Key, number>];
  });
}

function main(): void {
  const window = Number(flag('window', '100'));
  const runs = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--window');
  if (runs.length < 1) throw new Error('usage: loss_curves.js [--window N] RUN [RUN …]');
  const curves = runs.map((r) => windowedLosses(readLog(join(r, 'log.jsonl')), window));
  const keys = (Object.keys(curves[0][0][1]) as Key[]).filter((k) => curves.some((c) => c.some(([, m]) => m[k] !== 0)));
  console.log(`iterations | ${runs.map((r, i) => keys.map((k) => `${k} [${i}]`).join(' | ')).join(' | ')}${runs.length > 1 ? ` | ${keys.map((k) => `${k} Δ/[0]`).join(' | ')}` : ''}`);
  curves[0].forEach(([end, first], w) => {
    const cells = curves.map((c) => keys.map((k) => fmt(c[w]?.[1][k] ?? NaN, 4)).join(' | '));
    const deltas = curves.slice(1).map((c) => keys.map((k) => `${fmt((100 * ((c[w]?.[1][k] ?? NaN) - first[k])) / first[k], 1)} %`).join(' | '));
    console.log(`≤ ${end} | ${cells.join(' | ')}${deltas.length ? ` | ${deltas.join(' | ')}` : ''}`);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
