// `--max-pixels N`, shared by every command that reads images: the largest width × height a file's header may
// declare (default: half the machine's memory at src/data/limits.ts's bytes per pixel).
import { num, type FlagSpec, type Parsed } from './args.js';
import { defaultMaxPixels, setDecodeLimits } from '../data/limits.js';

export const MAX_PIXELS_FLAG: FlagSpec = { 'max-pixels': { type: 'string' } };

/** The help line, its description starting at `column` as the command's other lines do. */
export function maxPixelsHelp(column: number): string {
  return `${'  --max-pixels N'.padEnd(column)}largest image (width × height) read from a file (default ${defaultMaxPixels()}, from this machine's memory)`;
}

/** Applies --max-pixels to every later image read. */
export function applyMaxPixels(values: Parsed['values']): void {
  if (values['max-pixels'] !== undefined) setDecodeLimits({ maxPixels: num(values, 'max-pixels', 0, { int: true, min: 1 }) });
}
