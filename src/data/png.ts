// PNG through pngjs: 8/16-bit gray, gray+alpha, RGB, RGBA and palette in; alpha dropped, palette expanded.
import { PNG } from 'pngjs';
import type { Image } from './image.js';

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

export function decodePng(bytes: Uint8Array, path: string): Image {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 26) { // IHDR: bit depth at byte 24, colour type at 25
    const depth = buf[24];
    const colorType = buf[25];
    if (depth < 8 && colorType !== 3) throw new Error(`not supported: ${depth}-bit PNG in ${path} (readable: 8/16-bit, or palette)`);
  }
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
