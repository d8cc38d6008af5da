// PNG through pngjs: 8/16-bit gray, gray+alpha, RGB, RGBA and palette in; alpha dropped (with a warning when it
// is not opaque), palette expanded. pngjs decodes a truncated image into whatever its buffer held, so the chunk
// structure and the amount of image data are checked here first: damage is always the same clear error.
import { PNG } from 'pngjs';
import { crc32, inflateSync, constants as zlibConstants } from 'node:zlib';
import type { Image } from './image_type.js';
import { checkPixels } from './limits.js';
import { warn } from './warnings.js';

/** pngjs zeroes the pixels that match a tRNS colour key; we drop alpha anyway, so the chunk is removed first. */
function withoutTransparencyKey(b: Buffer): Buffer {
  const parts: Buffer[] = [b.subarray(0, 8)];
  let pos = 8;
  while (pos + 12 <= b.length) {
    const len = b.readUInt32BE(pos);
    const end = pos + 12 + len;
    if (end > b.length) break; // truncated: let pngjs report it
    if (b.toString('latin1', pos + 4, pos + 8) !== 'tRNS') parts.push(b.subarray(pos, end));
    pos = end;
  }
  parts.push(b.subarray(pos));
  return Buffer.concat(parts);
}

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** Bytes of filtered scanlines (a filter byte per row) a PNG of this header holds once inflated. */
function rawBytes(width: number, height: number, depth: number, colorType: number, interlaced: boolean): number {
  const bits = depth * SAMPLES[colorType];
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bits) / 8)) : 0);
  if (!interlaced) return rows(width, height);
  return ADAM7.reduce((sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0);
}

/** Walks the chunks: complete, IHDR first, IEND present; inflates the image data (never beyond what the header
 * declares) and requires exactly the declared amount. */
function checkStructure(b: Buffer, path: string): void {
  const corrupt = (why: string) => new Error(`cannot read ${path}: corrupt PNG (${why})`);
  const truncated = (why: string) => new Error(`cannot read ${path}: truncated PNG (${why})`);
  if (b.length < 33 || b.toString('latin1', 12, 16) !== 'IHDR') throw b.length < 33 ? truncated('file ends inside the header') : corrupt('no IHDR chunk first');
  if (b.readUInt32BE(8) !== 13) throw corrupt('IHDR chunk has the wrong length');
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  const depth = b[24];
  const colorType = b[25];
  const interlace = b[28];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) throw corrupt(`image size ${width}×${height}`);
  if (!(colorType in SAMPLES) || ![1, 2, 4, 8, 16].includes(depth) || interlace > 1) throw corrupt(`bit depth ${depth}, colour type ${colorType}, interlace ${interlace}`);
  if (depth < 8 && colorType !== 3) throw new Error(`not supported: ${depth}-bit PNG in ${path} (readable: 8/16-bit, or palette)`);
  checkPixels(width, height, path);
  const idat: Buffer[] = [];
  let pos = 8;
  for (;;) {
    if (pos + 12 > b.length) throw truncated('file ends before the IEND chunk');
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    if (len > 0x7fffffff) throw corrupt(`chunk '${type}' declares ${len} bytes`);
    if (pos + 12 + len > b.length) throw truncated(`file ends inside the '${type}' chunk`);
    if (crc32(b.subarray(pos + 4, pos + 8 + len)) !== b.readUInt32BE(pos + 8 + len)) throw corrupt(`checksum of the '${type}' chunk does not match`);
    if (type === 'IDAT') idat.push(b.subarray(pos + 8, pos + 8 + len));
    pos += 12 + len;
    if (type === 'IEND') break;
  }
  const want = rawBytes(width, height, depth, colorType, interlace === 1);
  let data: Buffer;
  try {
    // A sync flush returns what a cut stream holds instead of failing: we say how much of the image is there.
    data = inflateSync(Buffer.concat(idat), { maxOutputLength: want + 1, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw corrupt('more image data than its size');
    throw corrupt(`image data: ${(err as Error).message}`);
  }
  if (data.length > want) throw corrupt('more image data than its size');
  if (data.length < want) {
    const rowBytes = 1 + Math.ceil((width * depth * SAMPLES[colorType]) / 8);
    const rows = interlace ? `${((100 * data.length) / want).toFixed(1)} % of the data` : `${Math.floor(data.length / rowBytes)} of ${height} rows`;
    throw truncated(`its image data holds ${rows}`);
  }
}

export function decodePng(bytes: Uint8Array, path: string): Image {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkStructure(buf, path);
  let png;
  try {
    png = PNG.sync.read(withoutTransparencyKey(buf), { skipRescale: true });
  } catch (err) {
    throw new Error(`cannot read ${path}: corrupt or truncated PNG (${(err as Error).message})`);
  }
  const { width, height, colorType } = png;
  const channels = colorType === 0 || colorType === 4 ? 1 : 3;
  const bitDepth = png.depth === 16 ? 16 : 8; // palette entries are 8-bit whatever the index depth
  const n = width * height;
  const rgba = bitDepth === 16 ? (png.data as unknown as Uint16Array) : png.data;
  const data = bitDepth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) data[i * channels + c] = rgba[4 * i + c];
  }
  if (colorType === 4 || colorType === 6) {
    const opaque = bitDepth === 16 ? 0xffff : 0xff;
    let clear = 0;
    for (let i = 0; i < n; i++) if (rgba[4 * i + 3] !== opaque) clear++;
    if (clear > 0) warn(`${path}: alpha channel dropped (${((100 * clear) / n).toPrecision(3)} % of pixels are not opaque)`);
  }
  return { width, height, channels, bitDepth, data };
}

export function encodePng(img: Image): Uint8Array {
  if (img.bitDepth === 32) throw new Error('not supported: 32-bit float PNG (write .tif for float images)');
  const colorType = img.channels === 3 ? 2 : 0;
  // A fresh copy: pngjs views a 16-bit input through `.buffer` from offset 0, in the host's byte order.
  const copy = img.bitDepth === 16 ? new Uint16Array(img.data) : new Uint8Array(img.data);
  const png = new PNG({ width: img.width, height: img.height, bitDepth: img.bitDepth, colorType, inputColorType: colorType, inputHasAlpha: false });
  png.data = Buffer.from(copy.buffer);
  const out = PNG.sync.write(png, { bitDepth: img.bitDepth, colorType, inputColorType: colorType, inputHasAlpha: false });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
