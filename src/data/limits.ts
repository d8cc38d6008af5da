// Resource limits checked before an image is decoded: what kind of file it is, how big it is on disk, and how many
// pixels its header declares. A 10 KB file can declare 60000×60000 pixels; we refuse it before allocating anything.
import { platform } from '../platform/platform.js';

/** Bytes one decoded pixel may take at the peak of reading (16-bit RGBA from the decoder, our copy, the float
 * image of the dataset): a conservative bound, so that the pixel limit bounds memory. */
export const BYTES_PER_PIXEL = 32;
/** Share of the machine's memory one image may use. */
const RAM_SHARE = 0.5;
/** Headers, metadata and compression overhead that a file may carry beyond its pixels. */
export const FILE_SLACK_BYTES = 1 << 20;
/** Largest uncompressed sample data per pixel: three float32 samples plus alpha. */
export const MAX_FILE_BYTES_PER_PIXEL = 16;

export interface DecodeLimits {
  /** Largest width × height accepted from a header. */
  maxPixels: number;
}

export function defaultMaxPixels(): number {
  return Math.floor((platform().totalMemory() * RAM_SHARE) / BYTES_PER_PIXEL);
}

/** Set on first use: the host (src/platform) is installed by then. */
let limits: DecodeLimits | null = null;

export function decodeLimits(): DecodeLimits {
  return (limits ??= { maxPixels: defaultMaxPixels() });
}

/** Sets the limits of every later read (the commands' --max-pixels); returns the previous ones. */
export function setDecodeLimits(next: Partial<DecodeLimits>): DecodeLimits {
  const prev = decodeLimits();
  limits = { ...prev, ...next };
  return prev;
}

/** Throws if a header's size is beyond the pixel limit (before any pixel memory is allocated). */
export function checkPixels(width: number, height: number, path: string): void {
  const n = width * height;
  const { maxPixels } = decodeLimits();
  if (n > maxPixels) {
    throw new Error(
      `cannot read ${path}: its header declares ${width}×${height} = ${pixels(n)}, above the limit of ${pixels(maxPixels)} ` +
        `(--max-pixels N raises it; about ${BYTES_PER_PIXEL} bytes of memory per pixel)`,
    );
  }
}

function pixels(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} megapixels` : `${n} pixels`;
}

