// log.jsonl: one JSON object per logged iteration ({ iteration, losses, lr, seconds }), appended as training goes.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import type { StepLosses } from '../model/cyclegan.js';

export interface LogEntry {
  /** Iterations completed (1-based number of the iteration just done). */
  iteration: number;
  losses: StepLosses;
  lr: number;
  /** Training time so far in seconds, summed over resumed sessions. */
  seconds: number;
  /** At checkpoints: mean PCC with the target of held-out crops, corrected and uncorrected (trainer.ts guard). */
  heldOut?: HeldOutCheck;
  /** At checkpoints under --keep best: mean convention PSNR of the held-out pairs (train/validation.ts), of their
   * input, and the best so far (iteration 0 included). */
  validation?: { psnr: number; inputPsnr: number; best: number };
}

export interface HeldOutCheck {
  correctedPcc: number;
  inputPcc: number;
  /** Why the corrector looks broken (its correlation with the target is below the input's, or negative); else null. */
  warning: string | null;
}

export function appendLog(path: string, entry: LogEntry): void {
  appendFileSync(path, `${JSON.stringify(entry)}\n`);
}

export function readLog(path: string): LogEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as LogEntry;
      } catch {
        throw new Error(`${path}: line ${i + 1} is not JSON`);
      }
    });
}

/** On resume: entries after the checkpoint's iteration are trained again from it, so they are dropped (as is a line
 * cut short by a crash). */
export function truncateLog(path: string, iteration: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((l) => {
    try {
      return (JSON.parse(l) as LogEntry).iteration <= iteration;
    } catch {
      return false;
    }
  });
  writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}
