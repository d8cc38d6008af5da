// PNG, portable (fflate's zlib; no Node module, so the browser reads and writes it too): 8/16-bit gray, gray+alpha,
// RGB, RGBA and palette (1–8-bit indices) in, interlaced or not; alpha and any tRNS transparency dropped (with a
// warning when the alpha channel is not opaque), palette expanded. The chunk structure and the amount of image data
// are checked before anything is decoded: damage is always the same clear error.
import { Unzlib, zlibSync } from 'fflate';
import type { Image } from './image_type.js';
import { checkPixels } from './limits.js';
import { warn } from './warnings.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Header { width: number; height: number; depth: number; colorType: number; interlaced: boolean }

/** Pass sizes (x0, y0, dx, dy, width, height) of the image: one pass, or Adam7's seven. */
function passes(h: Header): { x0: number; y0: number; dx: number; dy: number; w: number; rows: number }[] {
  const all = h.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  return all.map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, w: Math.ceil((h.width - x0) / dx), rows: Math.ceil((h.height - y0) / dy) }))
    .map((p) => (p.w > 0 && p.rows > 0 ? p : { ...p, w: 0, rows: 0 }));
}

function rowBytes(h: Header, w: number): number {
  return Math.ceil((w * h.depth * SAMPLES[h.colorType]) / 8);
}

/** Walks the chunks: complete, IHDR first, IEND present, checksums right; inflates the image data (never beyond
 * what the header declares) and requires exactly the declared amount. Returns the header, the palette and the
 * filtered scanlines. */
function readStructure(b: Uint8Array, path: string): { h: Header; palette: Uint8Array | null; data: Uint8Array } {
  const corrupt = (why: string) => new Error(`cannot read ${path}: corrupt PNG (${why})`);
  const truncated = (why: string) => new Error(`cannot read ${path}: truncated PNG (${why})`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (at: number) => view.getUint32(at);
  const type = (at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
  if (b.length < 33 || type(12) !== 'IHDR') throw b.length < 33 ? truncated('file ends inside the header') : corrupt('no IHDR chunk first');
  if (u32(8) !== 13) throw corrupt('IHDR chunk has the wrong length');
  const h: Header = { width: u32(16), height: u32(20), depth: b[24], colorType: b[25], interlaced: b[28] === 1 };
  const { width, height, depth, colorType } = h;
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) throw corrupt(`image size ${width}×${height}`);
  if (!(colorType in SAMPLES) || ![1, 2, 4, 8, 16].includes(depth) || b[28] > 1 || (colorType === 3 && depth === 16)) {
    throw corrupt(`bit depth ${depth}, colour type ${colorType}, interlace ${b[28]}`);
  }
  if (depth < 8 && colorType !== 3) throw new Error(`not supported: ${depth}-bit PNG in ${path} (readable: 8/16-bit, or palette)`);
  checkPixels(width, height, path);
  const idat: Uint8Array[] = [];
  let palette: Uint8Array | null = null;
  let pos = 8;
  for (;;) {
    if (pos + 12 > b.length) throw truncated('file ends before the IEND chunk');
    const len = u32(pos);
    const t = type(pos + 4);
    if (len > 0x7fffffff) throw corrupt(`chunk '${t}' declares ${len} bytes`);
    if (pos + 12 + len > b.length) throw truncated(`file ends inside the '${t}' chunk`);
    if (crc32(b.subarray(pos + 4, pos + 8 + len)) !== u32(pos + 8 + len)) throw corrupt(`checksum of the '${t}' chunk does not match`);
    if (t === 'IDAT') idat.push(b.subarray(pos + 8, pos + 8 + len));
    if (t === 'PLTE') palette = b.subarray(pos + 8, pos + 8 + len);
    pos += 12 + len;
    if (t === 'IEND') break;
  }
  if (colorType === 3 && (!palette || palette.length % 3 !== 0 || palette.length === 0)) throw corrupt('palette image without a valid PLTE chunk');
  const want = passes(h).reduce((sum, p) => sum + p.rows * (1 + rowBytes(h, p.w)), 0);
  const data = new Uint8Array(want);
  let got = 0;
  // Pushed as not final: a cut stream gives what it holds instead of failing, and we say how much of the image is there.
  const inflate = new Unzlib((chunk) => {
    if (got + chunk.length > want) throw corrupt('more image data than its size');
    data.set(chunk, got);
    got += chunk.length;
  });
  try {
    for (const part of idat) inflate.push(part, false);
  } catch (err) {
    if ((err as Error).message.startsWith(`cannot read ${path}`)) throw err;
    throw corrupt(`image data: ${(err as Error).message}`);
  }
  if (got < want) {
    const rows = h.interlaced ? `${((100 * got) / want).toFixed(1)} % of the data` : `${Math.floor(got / (1 + rowBytes(h, width)))} of ${height} rows`;
    throw truncated(`its image data holds ${rows}`);
  }
  return { h, palette, data };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes the row filters in place (rows of `stride` bytes after a filter byte each, starting at `at`); false if a
 * filter type is unknown. */
function unfilter(data: Uint8Array, at: number, rows: number, stride: number, bpp: number): boolean {
  for (let y = 0; y < rows; y++) {
    const f = data[at + y * (stride + 1)];
    if (f > 4) return false;
    if (f === 0) continue;
    const row = at + y * (stride + 1) + 1;
    const prev = y > 0 ? row - (stride + 1) : -1;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? data[row + i - bpp] : 0;
      const up = prev >= 0 ? data[prev + i] : 0;
      const c = prev >= 0 && i >= bpp ? data[prev + i - bpp] : 0;
      data[row + i] = (data[row + i] + (f === 1 ? a : f === 2 ? up : f === 3 ? (a + up) >> 1 : paeth(a, up, c))) & 0xff;
    }
  }
  return true;
}

export function decodePng(bytes: Uint8Array, path: string): Image {
  if (!SIGNATURE.every((v, i) => bytes[i] === v)) throw new Error(`cannot read ${path}: corrupt PNG (no PNG signature)`);
  const { h, palette, data } = readStructure(bytes, path);
  const { width, height, depth, colorType } = h;
  const samples = SAMPLES[colorType];
  const channels = colorType === 0 || colorType === 4 ? 1 : 3;
  const bitDepth = depth === 16 ? 16 : 8; // palette entries are 8-bit whatever the index depth
  const n = width * height;
  const out = bitDepth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  const bpp = Math.max(1, (depth * samples) >> 3);
  const hasAlpha = colorType === 4 || colorType === 6;
  const opaque = depth === 16 ? 0xffff : 0xff;
  let clear = 0;
  let at = 0;
  for (const p of passes(h)) {
    if (p.rows === 0) continue;
    const stride = rowBytes(h, p.w);
    if (!unfilter(data, at, p.rows, stride, bpp)) throw new Error(`cannot read ${path}: corrupt PNG (unknown row filter type)`);
    for (let y = 0; y < p.rows; y++) {
      const row = at + y * (stride + 1) + 1;
      for (let x = 0; x < p.w; x++) {
        const o = ((p.y0 + y * p.dy) * width + p.x0 + x * p.dx) * channels;
        if (colorType === 3) {
          const bit = x * depth;
          const index = (data[row + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
          if (3 * index + 2 >= palette!.length) throw new Error(`cannot read ${path}: corrupt PNG (palette index ${index} beyond the palette)`);
          for (let c = 0; c < 3; c++) out[o + c] = palette![3 * index + c];
          continue;
        }
        const sample = (s: number) => (depth === 16 ? (data[row + 2 * (x * samples + s)] << 8) | data[row + 2 * (x * samples + s) + 1] : data[row + x * samples + s]);
        for (let c = 0; c < channels; c++) out[o + c] = sample(c);
        if (hasAlpha && sample(samples - 1) !== opaque) clear++;
      }
    }
    at += p.rows * (stride + 1);
  }
  if (clear > 0) warn(`${path}: alpha channel dropped (${((100 * clear) / n).toPrecision(3)} % of pixels are not opaque)`);
  return { width, height, channels, bitDepth, data: out };
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** 8/16-bit gray or RGB; each row with the filter whose output has the smallest sum of absolute values (the usual
 * heuristic), deflated at level 9. */
export function encodePng(img: Image): Uint8Array {
  if (img.bitDepth === 32) throw new Error('not supported: 32-bit float PNG (write .tif for float images)');
  const { width, height, channels, bitDepth } = img;
  const bpp = channels * (bitDepth / 8);
  const stride = width * bpp;
  const raw = new Uint8Array(height * stride);
  for (let i = 0; i < img.data.length; i++) {
    if (bitDepth === 16) {
      raw[2 * i] = img.data[i] >> 8;
      raw[2 * i + 1] = img.data[i] & 0xff;
    } else raw[i] = img.data[i];
  }
  const filtered = new Uint8Array(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = raw.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? raw.subarray((y - 1) * stride, y * stride) : null;
    let bestCost = Infinity;
    for (let f = 0; f <= 4; f++) {
      let cost = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const up = prev ? prev[i] : 0;
        const c = prev && i >= bpp ? prev[i - bpp] : 0;
        const v = (row[i] - (f === 0 ? 0 : f === 1 ? a : f === 2 ? up : f === 3 ? (a + up) >> 1 : paeth(a, up, c))) & 0xff;
        candidate[i] = v;
        cost += v < 128 ? v : 256 - v;
      }
      if (cost < bestCost) {
        bestCost = cost;
        filtered[y * (stride + 1)] = f;
        filtered.set(candidate, y * (stride + 1) + 1);
      }
    }
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([bitDepth, channels === 3 ? 2 : 0, 0, 0, 0], 8);
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(filtered, { level: 9 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
