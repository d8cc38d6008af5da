// Checks a path before it is opened as an image (Node): a regular file of a size an image within the limits can
// have. Opening a FIFO blocks, and /dev/zero never ends.
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { decodeLimits, FILE_SLACK_BYTES, MAX_FILE_BYTES_PER_PIXEL } from './limits.js';

const KIND: [string, (s: Stats) => boolean][] = [
  ['a folder', (s) => s.isDirectory()], ['a FIFO (named pipe)', (s) => s.isFIFO()], ['a character device', (s) => s.isCharacterDevice()],
  ['a block device', (s) => s.isBlockDevice()], ['a socket', (s) => s.isSocket()],
];

/** One line for a failed stat or read of an image file. */
export function unreadable(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied'
    : code === 'ELOOP' ? 'too many symbolic links' : (err as Error).message;
  return new Error(`cannot read ${path}: ${why}`);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Throws unless path (after symlinks) is a regular file within the limits; returns its size. */
export async function checkImageFile(path: string): Promise<number> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw unreadable(path, err);
  }
  if (!st.isFile()) {
    const kind = KIND.find(([, is]) => is(st))?.[0] ?? 'not a regular file';
    throw new Error(`cannot read ${path}: it is ${kind}, not an image file`);
  }
  if (st.size === 0) throw new Error(`cannot read ${path}: empty file`);
  const { maxPixels } = decodeLimits();
  const maxBytes = maxPixels * MAX_FILE_BYTES_PER_PIXEL + FILE_SLACK_BYTES;
  if (st.size > maxBytes) {
    throw new Error(`cannot read ${path}: ${mib(st.size)} is more than an image of --max-pixels ${maxPixels} can take (${mib(maxBytes)})`);
  }
  return st.size;
}
