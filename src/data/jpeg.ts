// JPEG: decoding through jpeg-js after our own header walk, encoding RGB through jpeg-js and gray by the small
// baseline encoder below (jpeg-js always writes three components; a gray image must stay gray).
//
// jpeg-js alone departs from libjpeg(-turbo), the decoder behind PIL, Fiji and most tools: it repeats subsampled
// chroma instead of interpolating it ("fancy upsampling"), truncates instead of rounding in YCbCr → RGB (a bias of
// about −0.5 level), neither reports the component count nor clearly rejects 12-bit / arithmetic / lossless files.
// So we ask jpeg-js for the raw components and do the upsampling and colour conversion exactly as libjpeg-turbo does;
// what remains is IDCT rounding (±1 per component).
import { decode as jpegDecode, encode as jpegEncode } from 'jpeg-js';
import type { Image } from './image_type.js';
import { checkPixels, decodeLimits, BYTES_PER_PIXEL } from './limits.js';

export const JPEG_QUALITY = 95;

interface Component { id: number; h: number; v: number }
interface Frame {
  marker: number; precision: number; width: number; height: number; components: Component[];
  jfif: boolean; adobe: { transform: number; start: number; end: number } | null; scanAt: number;
}

/** Walks the marker segments up to the first scan: frame header, JFIF / Adobe markers, where the scan starts. */
function readFrame(b: Uint8Array, path: string): Frame {
  const truncated = () => new Error(`cannot read ${path}: truncated JPEG (file ends inside the headers)`);
  const ascii = (at: number, s: string) => [...s].every((ch, i) => b[at + i] === ch.charCodeAt(0));
  let pos = 2;
  let frame: Pick<Frame, 'marker' | 'precision' | 'width' | 'height' | 'components'> | null = null;
  let jfif = false;
  let adobe: Frame['adobe'] = null;
  for (;;) {
    if (pos + 4 > b.length) throw truncated();
    if (b[pos] !== 0xff) throw new Error(`cannot read ${path}: corrupt JPEG (no marker at byte ${pos})`);
    const start = pos;
    while (b[pos] === 0xff && pos < b.length) pos++;
    const marker = b[pos++];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length field
    if (marker === 0xd9) throw new Error(`cannot read ${path}: corrupt JPEG (end of image before any scan)`);
    if (pos + 2 > b.length) throw truncated();
    const len = (b[pos] << 8) | b[pos + 1];
    if (len < 2 || pos + len > b.length) throw truncated();
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && !frame) {
      const count = b[pos + 7];
      if (len < 8 + 3 * count) throw new Error(`cannot read ${path}: corrupt JPEG frame header`);
      const components = Array.from({ length: count }, (_, i) => {
        const at = pos + 8 + 3 * i;
        return { id: b[at], h: b[at + 1] >> 4, v: b[at + 1] & 15 };
      });
      if (components.some((c) => c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4)) {
        throw new Error(`cannot read ${path}: corrupt JPEG frame header (sampling factors)`);
      }
      frame = {
        marker, precision: b[pos + 2], height: (b[pos + 3] << 8) | b[pos + 4], width: (b[pos + 5] << 8) | b[pos + 6], components,
      };
    }
    if (marker === 0xe0 && len >= 7 && ascii(pos + 2, 'JFIF\0')) jfif = true;
    if (marker === 0xee && len >= 14 && ascii(pos + 2, 'Adobe')) adobe = { transform: b[pos + 13], start, end: pos + len };
    if (marker === 0xda) {
      if (!frame) throw new Error(`cannot read ${path}: corrupt JPEG (scan before frame header)`);
      return { ...frame, jfif, adobe, scanAt: pos + len };
    }
    pos += len;
  }
}

export function decodeJpeg(bytes: Uint8Array, path: string): Image {
  const f = readFrame(bytes, path);
  const notSupported = (what: string) => new Error(`not supported: ${what} in ${path} (readable: 8-bit gray or RGB, baseline or progressive)`);
  if (f.marker === 0xc3 || f.marker === 0xcb || f.marker === 0xcf) throw notSupported('lossless JPEG');
  if (f.marker >= 0xc9) throw notSupported('arithmetic-coded JPEG');
  if (f.marker >= 0xc5) throw notSupported('hierarchical JPEG');
  if (f.precision !== 8) throw notSupported(`${f.precision}-bit JPEG`);
  const nc = f.components.length;
  if (nc !== 1 && nc !== 3) throw notSupported(`${nc}-component JPEG${nc === 4 ? ' (CMYK)' : ''}`);
  if (f.width === 0 || f.height === 0) throw notSupported('JPEG without a height in its frame header (DNL)');
  checkPixels(f.width, f.height, path);
  const eoi = findEoi(bytes, f.scanAt);
  if (eoi < 0) throw new Error(`cannot read ${path}: truncated JPEG (no end-of-image marker)`);
  // Without its Adobe marker jpeg-js returns the components unconverted (the marker forces its own conversion).
  const cut = f.adobe ? f.adobe.end - f.adobe.start : 0;
  const input = f.adobe ? concat(bytes.subarray(0, f.adobe.start), bytes.subarray(f.adobe.end)) : bytes;
  const decodeRaw = (b: Uint8Array) => jpegDecode(b, {
    useTArray: true, formatAsRGBA: false, colorTransform: false, tolerantDecoding: false,
    maxResolutionInMP: Math.ceil(decodeLimits().maxPixels / 1e6), maxMemoryUsageInMB: Math.ceil((decodeLimits().maxPixels * BYTES_PER_PIXEL) / 2 ** 20),
  }).data;
  let raw: Uint8Array;
  try {
    raw = decodeRaw(input);
  } catch (err) {
    throw new Error(`cannot read ${path}: corrupt JPEG data (${(err as Error).message})`);
  }
  // jpeg-js skips bytes left over between the last block and the end marker without a word (libjpeg warns
  // "extraneous bytes"): damaged entropy data usually ends that way. Without its last data byte an intact scan
  // cannot be decoded, so a decode that still succeeds proves leftover bytes. Fill bytes (FF) before the marker
  // and whole bytes of padding bits (FF 00, as jpeg-js writes them) are allowed.
  let end = eoi - cut;
  while (end > 0 && input[end - 1] === 0xff) end--;
  while (end > 1 && input[end - 1] === 0x00 && input[end - 2] === 0xff) end -= 2;
  let leftover = true;
  try {
    decodeRaw(concat(input.subarray(0, end - 1), input.subarray(eoi - cut)));
  } catch {
    leftover = false;
  }
  if (leftover) throw new Error(`cannot read ${path}: corrupt JPEG data (bytes left over after the last block: damaged entropy-coded data)`);
  const { width, height } = f;
  const n = width * height;
  if (raw.length !== n * 3) throw new Error(`cannot read ${path}: decoded ${raw.length} bytes, expected ${n * 3}`);
  if (nc === 1) {
    const gray = new Uint8Array(n); // jpeg-js repeats the one component into R, G, B
    for (let i = 0; i < n; i++) gray[i] = raw[3 * i];
    return { width, height, channels: 1, bitDepth: 8, data: gray };
  }
  const maxH = Math.max(...f.components.map((c) => c.h));
  const maxV = Math.max(...f.components.map((c) => c.v));
  f.components.forEach((c, k) => upsampleFancy(raw, k, width, height, maxH / c.h, maxV / c.v));
  if (isYCbCr(f)) yccToRgb(raw);
  return { width, height, channels: 3, bitDepth: 8, data: raw };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Where the end-of-image marker is, or -1. Entropy-coded data stuffs 0xFF as FF 00, so FF D9 after the scan
 * start is the real marker. */
function findEoi(b: Uint8Array, from: number): number {
  for (let i = b.indexOf(0xff, from); i >= 0 && i + 1 < b.length; i = b.indexOf(0xff, i + 1)) {
    if (b[i + 1] === 0xd9) return i;
  }
  return -1;
}

/** libjpeg's rule (jdapimin.c default_decompress_parms) for a 3-component file. */
function isYCbCr(f: Frame): boolean {
  if (f.jfif) return true;
  if (f.adobe) return f.adobe.transform !== 0;
  const [a, b, c] = f.components.map((x) => x.id);
  return !(a === 0x52 && b === 0x47 && c === 0x42); // 'R', 'G', 'B' component ids mean RGB
}

/**
 * Replaces component k of the interleaved 3-channel `raw` (replicated by jpeg-js from a plane subsampled by sx × sy)
 * with libjpeg-turbo's fancy upsampling of that plane (jdsample.c: triangle filter, edges replicated, its rounding).
 * Other factors (4:1:1 and the like) are replicated by libjpeg-turbo too, so they are left as they are.
 */
function upsampleFancy(raw: Uint8Array, k: number, width: number, height: number, sx: number, sy: number): void {
  if (!((sx === 2 && sy <= 2) || (sx === 1 && sy === 2))) return;
  const dw = Math.ceil(width / sx);
  const dh = Math.ceil(height / sy);
  const plane = new Int32Array(dw * dh);
  for (let y = 0; y < dh; y++) for (let x = 0; x < dw; x++) plane[y * dw + x] = raw[((y * sy) * width + x * sx) * 3 + k];
  const at = (x: number, y: number) => plane[Math.min(dh - 1, Math.max(0, y)) * dw + Math.min(dw - 1, Math.max(0, x))];
  for (let y = 0; y < height; y++) {
    const cy = Math.floor(y / sy);
    const ny = sy === 1 ? cy : y % 2 === 0 ? cy - 1 : cy + 1; // nearer neighbour row: above for even rows, below for odd
    for (let x = 0; x < width; x++) {
      const cx = Math.floor(x / sx);
      let v: number;
      if (sx === 2 && sy === 2) {
        const nx = x % 2 === 0 ? cx - 1 : cx + 1;
        const here = 3 * at(cx, cy) + at(cx, ny);
        const there = 3 * at(nx, cy) + at(nx, ny);
        v = (3 * here + there + (x % 2 === 0 ? 8 : 7)) >> 4;
      } else if (sx === 2) {
        const nx = x % 2 === 0 ? cx - 1 : cx + 1;
        v = (3 * at(cx, cy) + at(nx, cy) + (x % 2 === 0 ? 1 : 2)) >> 2;
      } else {
        v = (3 * at(cx, cy) + at(cx, ny) + (y % 2 === 0 ? 1 : 2)) >> 2;
      }
      raw[(y * width + x) * 3 + k] = v;
    }
  }
}

// libjpeg-turbo's fixed-point YCbCr → RGB (jdcolor.c): 16 fractional bits, rounded, clamped.
const FIX = (x: number) => Math.floor(x * 65536 + 0.5);
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX(1.402) * x + 32768) >> 16;
  CB_B[i] = (FIX(1.772) * x + 32768) >> 16;
  CR_G[i] = -FIX(0.71414) * x;
  CB_G[i] = -FIX(0.34414) * x + 32768;
}

function yccToRgb(p: Uint8Array): void {
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let i = 0; i < p.length; i += 3) {
    const y = p[i];
    const cb = p[i + 1];
    const cr = p[i + 2];
    p[i] = clamp(y + CR_R[cr]);
    p[i + 1] = clamp(y + ((CB_G[cb] + CR_G[cr]) >> 16));
    p[i + 2] = clamp(y + CB_B[cb]);
  }
}

export function encodeJpeg(img: Image, quality = JPEG_QUALITY): Uint8Array {
  if (img.bitDepth !== 8) throw new Error(`not supported: ${img.bitDepth}-bit JPEG (JPEG holds 8-bit images; write .png or .tif)`);
  if (img.width > 65535 || img.height > 65535) throw new Error(`not supported: JPEG larger than 65535 pixels a side (${img.width}×${img.height})`);
  if (img.channels === 1) return encodeGrayJpeg(img.data as Uint8Array, img.width, img.height, quality);
  const n = img.width * img.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    rgba[4 * i] = img.data[3 * i];
    rgba[4 * i + 1] = img.data[3 * i + 1];
    rgba[4 * i + 2] = img.data[3 * i + 2];
    rgba[4 * i + 3] = 255;
  }
  const out = jpegEncode({ data: rgba, width: img.width, height: img.height }, quality).data;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

// ---- baseline gray encoder (ITU T.81 with the Annex K luminance tables, IJG quality scaling) ----

const ZIGZAG = [ // natural index of the k-th coefficient in zigzag order
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63,
];
const LUMA_QUANT = [ // natural order
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51,
  87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120,
  101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const DC_COUNTS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_COUNTS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_VALUES = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14,
  0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09,
  0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
  0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65,
  0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
  0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
  0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
  0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
  0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

/** Canonical Huffman codes (T.81 Annex C): symbol → [code, length]. */
function huffmanCodes(counts: number[], values: number[]): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < counts[len - 1]; i++) codes.set(values[k++], [code++, len]);
    code <<= 1;
  }
  return codes;
}

class BitWriter {
  private buf = new Uint8Array(1 << 16);
  length = 0;
  private acc = 0;
  private nbits = 0;
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  private push(byte: number): void {
    if (this.length === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = byte;
  }
  write(code: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((code >>> i) & 1);
      if (++this.nbits === 8) {
        this.push(this.acc);
        if (this.acc === 0xff) this.push(0); // byte stuffing
        this.acc = 0;
        this.nbits = 0;
      }
    }
  }
  flush(): void {
    if (this.nbits > 0) this.write(0x7f, 8 - this.nbits); // pad with 1-bits
  }
}

/** Magnitude category and the low bits that encode v (T.81 F.1.2.1). */
function category(v: number): [number, number] {
  const a = Math.abs(v);
  const size = a === 0 ? 0 : 32 - Math.clz32(a);
  return [size, v < 0 ? v + (1 << size) - 1 : v];
}

function encodeGrayJpeg(data: Uint8Array, width: number, height: number, quality: number): Uint8Array {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - 2 * quality;
  const q = LUMA_QUANT.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
  const cos = new Float64Array(64); // cos[u*8+x] = C(u)/2 · cos((2x+1)uπ/16)
  for (let u = 0; u < 8; u++) {
    for (let x = 0; x < 8; x++) cos[u * 8 + x] = (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  const dc = huffmanCodes(DC_COUNTS, DC_VALUES);
  const ac = huffmanCodes(AC_COUNTS, AC_VALUES);
  const put = (w: BitWriter, codes: Map<number, [number, number]>, sym: number) => w.write(...codes.get(sym)!);
  const w = new BitWriter();
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  const coef = new Int32Array(64);
  let prevDc = 0;
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let y = 0; y < 8; y++) {
        const row = Math.min(by + y, height - 1) * width; // edge blocks repeat the last row / column
        for (let x = 0; x < 8; x++) block[y * 8 + x] = data[row + Math.min(bx + x, width - 1)] - 128;
      }
      for (let y = 0; y < 8; y++) {
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let x = 0; x < 8; x++) s += cos[u * 8 + x] * block[y * 8 + x];
          tmp[y * 8 + u] = s;
        }
      }
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let y = 0; y < 8; y++) s += cos[v * 8 + y] * tmp[y * 8 + u];
          coef[v * 8 + u] = Math.round(s / q[v * 8 + u]);
        }
      }
      const [dsize, dbits] = category(coef[0] - prevDc);
      prevDc = coef[0];
      put(w, dc, dsize);
      if (dsize) w.write(dbits, dsize);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const c = coef[ZIGZAG[k]];
        if (c === 0) {
          run++;
          continue;
        }
        for (; run > 15; run -= 16) put(w, ac, 0xf0);
        const [size, bits] = category(c);
        put(w, ac, (run << 4) | size);
        w.write(bits, size);
        run = 0;
      }
      if (run > 0) put(w, ac, 0x00); // end of block
    }
  }
  w.flush();

  const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const head = [
    0xff, 0xd8,
    ...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]), // JFIF 1.1, no density unit
    ...seg(0xdb, [0, ...ZIGZAG.map((i) => q[i])]),
    ...seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    ...seg(0xc4, [0x00, ...DC_COUNTS, ...DC_VALUES]),
    ...seg(0xc4, [0x10, ...AC_COUNTS, ...AC_VALUES]),
    ...seg(0xda, [1, 1, 0x00, 0, 63, 0]),
  ];
  const out = new Uint8Array(head.length + w.bytes.length + 2);
  out.set(head);
  out.set(w.bytes, head.length);
  out.set([0xff, 0xd9], head.length + w.bytes.length);
  return out;
}
