// Child process of fuzz.test.ts: decodes seeded mutations of valid PNG, JPEG and TIFF files, one line of JSON per
// case on stdout ({"case":i,"outcome":…}) so that the parent can tell which case hung if it has to kill us.
// argv: FORMAT FIRST COUNT DIR
import '../../src/platform/node.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readImagePages, checkImage } from '../../src/data/image.js';
import { setDecodeLimits } from '../../src/data/limits.js';
import { onWarning } from '../../src/data/warnings.js';
import { hash32 } from '../../src/graph/random.js';

export const FUZZ_SOURCES: Record<string, string[]> = {
  png: ['rgb8.png', 'u16_gray.png', 'gray_alpha.png', 'palette4.png', 'rgba8.png'],
  jpeg: ['rgb444.jpg', 'rgb420.jpg', 'rgb422.jpg', 'gray_progressive.jpg'],
  tiff: ['u16_lzw_predictor.tif', 'rgb8_tiled.tif', 'u8_packbits.tif', 'f32_rgb_deflate.tif', 'rgb16_planar.tif', 'u16_deflate_old.tif'],
};
/** Far above the fixtures (23×37) and far below what the machine holds: a header inflated past it must be refused. */
export const FUZZ_MAX_PIXELS = 4_000_000;

const FIX = join(import.meta.dirname, '..', 'fixtures', 'data_io');

class Rand {
  private i = 0;
  constructor(private seed: number) {}
  next(n: number): number {
    return hash32(this.i++, this.seed) % n;
  }
}

function setU32(b: Uint8Array, at: number, v: number, little: boolean): void {
  new DataView(b.buffer, b.byteOffset).setUint32(at, v, little);
}

/** Header fields that declare the image (or strip, tile) size, rewritten to a random size up to 2^31 (or 65535
 * where the field has 16 bits). */
function inflateHeader(b: Uint8Array, format: string, r: Rand): void {
  const big = () => [1 << 16, 60000, 1 << 20, 0x7fffffff, 1 + r.next(1 << 24)][r.next(5)];
  if (format === 'png') {
    setU32(b, 16 + 4 * r.next(2), big(), false);
    fixPngCrcs(b);
    return;
  }
  if (format === 'jpeg') {
    for (let i = 2; i + 9 < b.length; i++) {
      if (b[i] === 0xff && b[i + 1] >= 0xc0 && b[i + 1] <= 0xc2) {
        const v = 1 + r.next(65535);
        b[i + 5 + 2 * r.next(2)] = v >> 8;
        b[i + 6 + 2 * r.next(2)] = v & 0xff;
        return;
      }
    }
    return;
  }
  const little = b[0] === 0x49;
  const dv = new DataView(b.buffer, b.byteOffset);
  const ifd = dv.getUint32(4, little);
  const n = dv.getUint16(ifd, little);
  for (let k = 0; k < n; k++) {
    const at = ifd + 2 + 12 * k;
    const tag = dv.getUint16(at, little);
    // ImageWidth, ImageLength, RowsPerStrip, TileWidth, TileLength
    if ([256, 257, 278, 322, 323].includes(tag) && r.next(2) === 0) {
      if (dv.getUint16(at + 2, little) === 3) dv.setUint16(at + 8, 1 + r.next(65535), little);
      else dv.setUint32(at + 8, big(), little);
    }
  }
}

/** Recomputes every PNG chunk checksum, so that damage reaches the decoder instead of stopping at the CRC. */
function fixPngCrcs(b: Uint8Array): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let pos = 8; pos + 12 <= b.length;) {
    const len = dv.getUint32(pos);
    if (pos + 12 + len > b.length) return;
    dv.setUint32(pos + 8 + len, crc32(b.subarray(pos + 4, pos + 8 + len)));
    pos += 12 + len;
  }
}

export function mutate(src: Uint8Array, format: string, seed: number): { bytes: Uint8Array; how: string } {
  const r = new Rand(seed);
  const kind = r.next(4);
  if (kind === 0) {
    const keep = r.next(src.length);
    return { bytes: src.slice(0, keep), how: `truncated to ${keep} of ${src.length} bytes` };
  }
  const b = src.slice();
  if (kind === 1) {
    const flips = 1 + r.next(8);
    for (let k = 0; k < flips; k++) b[r.next(b.length)] ^= 1 + r.next(255);
    if (format === 'png' && r.next(2) === 0) {
      fixPngCrcs(b);
      return { bytes: b, how: `${flips} byte(s) flipped, checksums fixed` };
    }
    return { bytes: b, how: `${flips} byte(s) flipped` };
  }
  if (kind === 2) {
    inflateHeader(b, format, r);
    return { bytes: b, how: 'header size inflated' };
  }
  const at = r.next(b.length);
  const len = 1 + r.next(64);
  b.fill(r.next(2) ? 0 : 0xff, at, at + len);
  return { bytes: b, how: `${len} bytes overwritten at ${at}` };
}

async function main(): Promise<void> {
  const [format, first, count, dir] = process.argv.slice(2);
  setDecodeLimits({ maxPixels: FUZZ_MAX_PIXELS });
  onWarning(() => {});
  const sources = FUZZ_SOURCES[format].map((f) => new Uint8Array(readFileSync(join(FIX, f))));
  for (let i = Number(first); i < Number(first) + Number(count); i++) {
    const { bytes, how } = mutate(sources[i % sources.length], format, hash32(i, 0xf022));
    const path = join(dir, `case${i}.${format}`);
    writeFileSync(path, bytes);
    let outcome: string;
    let message = '';
    try {
      const pages = await readImagePages(path);
      pages.forEach((p) => checkImage(p, path));
      outcome = 'decoded';
    } catch (err) {
      message = (err as Error)?.message ?? String(err);
      const clean = err instanceof Error && /^(cannot read|not supported)/.test(message) && message.includes(path) && !message.includes('\n');
      outcome = clean ? 'error' : 'crash';
    }
    globalThis.gc?.(); // peak RSS then measures one case, not garbage that V8 has not collected yet
    process.stdout.write(`${JSON.stringify({ case: i, source: FUZZ_SOURCES[format][i % sources.length], how, outcome, message })}\n`);
  }
  process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

if (process.argv[1] === import.meta.filename) await main();
