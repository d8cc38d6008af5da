// Resource limits checked before an image is decoded: what kind of file it is, how big it is on disk, and how many
// pixels its header declares. A 10 KB file can declare 60000×60000 pixels; we refuse it before allocating anything.
import { stat } from 'node:fs/promises';
import { totalmem } from 'node:os';

/** Bytes one decoded pixel may take at the peak of reading (16-bit RGBA from the decoder, our copy, the float
 * image of the dataset): a conservative bound, so that the pixel limit bounds memory. */
export const BYTES_PER_PIXEL = 32;
/** Share of the machine's memory one image may use. */
const RAM_SHARE = 0.5;
/** Headers, metadata and compression overhead that a file may carry beyond its pixels. */
const FILE_SLACK_BYTES = 1 << 20;
/** Largest uncompressed sample data per pixel: three float32 samples plus alpha. */
const MAX_FILE_BYTES_PER_PIXEL = 16;

export interface DecodeLimits {
  /** Largest width × height accepted from a header. */
  maxPixels: number;
}

export function defaultMaxPixels(): number {
  return Math.floor((totalmem() * RAM_SHARE) / BYTES_PER_PIXEL);
}

let limits: DecodeLimits = { maxPixels: defaultMaxPixels() };

export function decodeLimits(): DecodeLimits {
  return limits;
}

/** Sets the limits of every later read (the commands' --max-pixels); returns the previous ones. */
export function setDecodeLimits(next: Partial<DecodeLimits>): DecodeLimits {
  const prev = limits;
  limits = { ...limits, ...next };
  return prev;
}

const KIND: [string, (s: import('node:fs').Stats) => boolean][] = [
  ['a folder', (s) => s.isDirectory()], ['a FIFO (named pipe)', (s) => s.isFIFO()], ['a character device', (s) => s.isCharacterDevice()],
  ['a block device', (s) => s.isBlockDevice()], ['a socket', (s) => s.isSocket()],
];

/** Throws unless path (after symlinks) is a regular file of a size an image within the limits can have; returns
 * its size. Checked before opening: opening a FIFO blocks, and /dev/zero never ends. */
export async function checkImageFile(path: string): Promise<number> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ELOOP' ? 'too many symbolic links' : (err as Error).message;
    throw new Error(`cannot read ${path}: ${why}`);
  }
  if (!st.isFile()) {
    const kind = KIND.find(([, is]) => is(st))?.[0] ?? 'not a regular file';
    throw new Error(`cannot read ${path}: it is ${kind}, not an image file`);
  }
  if (st.size === 0) throw new Error(`cannot read ${path}: empty file`);
  const maxBytes = limits.maxPixels * MAX_FILE_BYTES_PER_PIXEL + FILE_SLACK_BYTES;
  if (st.size > maxBytes) {
    throw new Error(`cannot read ${path}: ${mib(st.size)} is more than an image of --max-pixels ${limits.maxPixels} can take (${mib(maxBytes)})`);
  }
  return st.size;
}

/** Throws if a header's size is beyond the pixel limit (before any pixel memory is allocated). */
export function checkPixels(width: number, height: number, path: string): void {
  const n = width * height;
  if (n > limits.maxPixels) {
    throw new Error(
      `cannot read ${path}: its header declares ${width}×${height} = ${pixels(n)}, above the limit of ${pixels(limits.maxPixels)} ` +
        `(--max-pixels N raises it; about ${BYTES_PER_PIXEL} bytes of memory per pixel)`,
    );
  }
}

function pixels(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} megapixels` : `${n} pixels`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
