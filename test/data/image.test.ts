import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage, readImagePages, writeImage, type Image } from '../../src/data/image.js';
import { hash32, hashUniform } from '../../src/graph/random.js';
import { encode as jpegEncode, decode as jpegDecode } from 'jpeg-js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'data_io');
const DATA = join(process.cwd(), '..', 'shared', 'data');
const HAVE_DATA = existsSync(DATA);
if (!HAVE_DATA) console.warn(`image.test: ${DATA} absent, real-data tests skipped`);
const manifest = JSON.parse(readFileSync(join(FIX, 'manifest.json'), 'utf8'));
const SAMPLE_SEED = 0x5a3b1e;

interface PageSpec { seed?: number; dtype: string; shape: number[]; keep?: number; values?: string }

/** The pixels scripts/fixtures/data_io.py put in a file: hash32 values, or the stored literal. */
function expected(spec: PageSpec): { channels: number; data: ArrayLike<number> } {
  const [h, w, c = 1] = spec.shape;
  const n = h * w * c;
  let all: ArrayLike<number>;
  if (spec.values !== undefined) {
    const b = Buffer.from(spec.values, 'base64');
    all = spec.dtype === 'uint16' ? new Uint16Array(b.buffer, b.byteOffset, n) : new Uint8Array(b.buffer, b.byteOffset, n);
  } else if (spec.dtype === 'float32') all = hashUniform(n, spec.seed!, 100);
  else {
    const mask = spec.dtype === 'uint8' ? 0xff : 0xffff;
    all = Array.from({ length: n }, (_, i) => hash32(i, spec.seed!) & mask);
  }
  const keep = spec.keep ?? c;
  if (keep === c) return { channels: c, data: all };
  const out = new Float64Array(h * w * keep);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < keep; k++) out[i * keep + k] = all[i * c + k];
  return { channels: keep, data: out };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const DTYPE_BITS: Record<string, number> = { uint8: 8, uint16: 16, float32: 32 };
// JPEG against libjpeg-turbo (PIL): the two IDCTs round differently, ±1 per decoded component. Gray is that
// component: ±1. RGB mixes three of them, B = Y + 1.772·(Cb − 128): 1 + 1.772 + the two roundings < 4, so ±3.
// (Upsampling and colour conversion follow libjpeg-turbo exactly, see src/data/jpeg.ts.)
const JPEG_TOL: Record<number, number> = { 1: 1, 3: 3 };
// The mean over a whole image moves by less than a quarter level (measured: 0.05 gray, 0.17 RGB); jpeg-js's own
// truncating colour conversion would be off by about 0.5.
const JPEG_MEAN_TOL = 0.25;

describe('reading files written by tifffile and PIL', () => {
  for (const c of manifest.readable) {
    it(`${c.file}: ${c.note}`, async () => {
      const pages = await readImagePages(join(FIX, c.file));
      expect(pages.length).toBe(c.pages.length);
      pages.forEach((img, p) => {
        const spec = c.pages[p] as PageSpec;
        const want = expected(spec);
        expect([img.height, img.width, img.channels, img.bitDepth]).toEqual([spec.shape[0], spec.shape[1], want.channels, DTYPE_BITS[spec.dtype]]);
        if (c.file.endsWith('.jpg')) {
          expect(maxAbsDiff(img.data, want.data)).toBeLessThanOrEqual(JPEG_TOL[img.channels]);
        } else {
          expect(sameValues(img.data, want.data)).toBe(true);
        }
      });
      const first = await readImage(join(FIX, c.file));
      expect(sameValues(first.data, pages[0].data)).toBe(true);
    });
  }
  it('a gray JPEG stays one channel, an RGB JPEG of equal channels stays three', async () => {
    expect((await readImage(join(FIX, 'gray_progressive.jpg'))).channels).toBe(1);
    const dir = mkdtempSync(join(tmpdir(), 'comi-img-'));
    try {
      const gray = new Uint8Array(16 * 8 * 3).map((_, i) => (Math.floor(i / 3) * 7) & 0xff);
      await writeImage(join(dir, 'g.jpg'), { width: 16, height: 8, channels: 3, bitDepth: 8, data: gray });
      expect((await readImage(join(dir, 'g.jpg'))).channels).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('unsupported files give "not supported" naming the file', () => {
  for (const c of manifest.unsupported) {
    it(c.file, async () => {
      const path = join(FIX, c.file);
      await expect(readImage(path)).rejects.toThrow(/^not supported: /);
      await expect(readImage(path)).rejects.toThrow(c.message);
      await expect(readImage(path)).rejects.toThrow(path);
    });
  }
});

describe('corrupt and unreadable files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'comi-bad-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cut = (file: string, keep: number) => readFileSync(join(FIX, file)).subarray(0, keep);

  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['empty.png', () => new Uint8Array(0), /empty file/],
    ['text.tif', () => Buffer.from('hello, not an image'), /not supported: file format of .*not a PNG, JPEG or TIFF/],
    ['header.tif', () => Buffer.from([0x49, 0x49, 42, 0, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]), /corrupt TIFF/],
    ['strips.tif', () => cut('u16_deflate_predictor.tif', 600), /truncated TIFF \(image data ends beyond the end of the file\)/],
    ['half.png', () => cut('rgb8.png', 1200), /truncated PNG \(file ends inside the 'IDAT' chunk\)/],
    ['half.jpg', () => cut('rgb444.jpg', 500), /truncated JPEG/],
    ['headers.jpg', () => cut('rgb444.jpg', 100), /truncated JPEG/],
  ];
  for (const [name, bytes, message] of cases) {
    it(name, async () => {
      const path = join(dir, name);
      writeFileSync(path, bytes());
      await expect(readImage(path)).rejects.toThrow(message);
      await expect(readImagePages(path)).rejects.toThrow(path);
    });
  }
  it('a bad PNG checksum', async () => {
    const b = Buffer.from(readFileSync(join(FIX, 'rgb8.png')));
    b[40] ^= 0xff; // inside the IDAT data: the CRC no longer matches
    const path = join(dir, 'crc.png');
    writeFileSync(path, b);
    await expect(readImage(path)).rejects.toThrow(/cannot read .*crc\.png: corrupt PNG \(checksum of the '[^']*' chunk does not match\)/);
  });
  it('12-bit, arithmetic-coded and lossless JPEG frames', async () => {
    const src = Buffer.from(readFileSync(join(FIX, 'rgb444.jpg')));
    const sof = src.indexOf(Buffer.from([0xff, 0xc0]));
    for (const [marker, precision, message] of [[0xc0, 12, '12-bit JPEG'], [0xc9, 8, 'arithmetic-coded JPEG'], [0xc3, 8, 'lossless JPEG']] as const) {
      const b = Buffer.from(src);
      b[sof + 1] = marker;
      b[sof + 4] = precision;
      const path = join(dir, `frame${marker}-${precision}.jpg`);
      writeFileSync(path, b);
      await expect(readImage(path)).rejects.toThrow(`not supported: ${message} in ${path}`);
    }
  });
  it('missing file and folder', async () => {
    await expect(readImage(join(dir, 'nope.tif'))).rejects.toThrow(`cannot read ${join(dir, 'nope.tif')}: no such file`);
    await expect(readImage(dir)).rejects.toThrow(`cannot read ${dir}: it is a folder`);
  });
});

/** Test content: hash values over the full range (and float specials for 32-bit). */
function testImage(width: number, height: number, channels: 1 | 3, bitDepth: 8 | 16 | 32, seed: number): Image {
  const n = width * height * channels;
  if (bitDepth === 32) {
    const data = hashUniform(n, seed, 1e4);
    data.set([0, -0, Infinity, -Infinity, NaN, 1e-42, 3.4e38]);
    return { width, height, channels, bitDepth, data };
  }
  const data = bitDepth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) data[i] = hash32(i, seed);
  data[0] = 0;
  data[1] = bitDepth === 8 ? 255 : 65535;
  return { width, height, channels, bitDepth, data };
}

/** Smooth 8-bit content (what JPEG is for): gradients plus ±4 levels of hash noise. */
function smoothImage(width: number, height: number, channels: 1 | 3, seed: number): Image {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const i = (y * width + x) * channels + c;
        const v = 128 + 60 * Math.sin(x / 9 + c) * Math.cos(y / 7) + (hash32(i, seed) % 9) - 4;
        data[i] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width, height, channels, bitDepth: 8, data };
}

function psnr8(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

describe('write → read round trips', () => {
  let dir: string;
  beforeAll(() => {
    dir = process.env.COMI_KEEP_IMAGES ?? mkdtempSync(join(tmpdir(), 'comi-rt-'));
    mkdirSync(dir, { recursive: true });
  });
  afterAll(() => {
    if (!process.env.COMI_KEEP_IMAGES) rmSync(dir, { recursive: true, force: true });
  });
  // scripts/check-image-writer.py keeps the written files and the pixels they should hold, for tifffile and PIL.
  const keepPixels = (path: string, img: Image) => {
    if (process.env.COMI_KEEP_IMAGES) writeFileSync(`${path}.raw`, new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength));
  };

  const lossless: Array<[string, 8 | 16 | 32]> = [['png', 8], ['png', 16], ['tif', 8], ['tif', 16], ['tif', 32]];
  for (const [ext, bitDepth] of lossless) {
    for (const channels of [1, 3] as const) {
      it(`${ext} ${bitDepth}-bit ${channels === 1 ? 'gray' : 'RGB'} is bit-exact`, async () => {
        // 300 rows of RGB 16-bit span several 256 KiB TIFF strips.
        const img = testImage(211, channels === 3 && bitDepth === 16 ? 300 : 37, channels, bitDepth, 100 + bitDepth + channels);
        const path = join(dir, `rt_${bitDepth}_${channels}.${ext}`);
        await writeImage(path, img);
        keepPixels(path, img);
        const back = await readImage(path);
        expect([back.width, back.height, back.channels, back.bitDepth]).toEqual([img.width, img.height, channels, bitDepth]);
        expect(back.data.constructor).toBe(img.data.constructor);
        expect(sameValues(back.data, img.data)).toBe(true);
      });
    }
  }

  // JPEG is lossy: the RGB writer is jpeg-js at quality 95, so its file must be byte-identical to jpeg-js's own; the
  // gray writer is ours, with the same luminance table and quality scaling, so it must lose what jpeg-js loses on
  // the luminance of the same picture stored as RGB (within 0.5 dB: the two DCTs round differently).
  it('jpg 8-bit RGB is jpeg-js at quality 95', async () => {
    const img = smoothImage(203, 61, 3, 10);
    const path = join(dir, 'rt_8_3.jpg');
    await writeImage(path, img);
    keepPixels(path, img);
    const rgba = new Uint8Array(203 * 61 * 4).map((_, i) => (i % 4 === 3 ? 255 : img.data[(i >> 2) * 3 + (i % 4)]));
    expect(Buffer.compare(readFileSync(path), jpegEncode({ data: rgba, width: 203, height: 61 }, 95).data)).toBe(0);
    const back = await readImage(path);
    expect([back.width, back.height, back.channels, back.bitDepth]).toEqual([203, 61, 3, 8]);
    expect(psnr8(back.data, img.data)).toBeGreaterThan(30); // a channel or row mix-up falls below 20 dB
  });
  it('jpg 8-bit gray stays one channel and loses what jpeg-js loses on luminance', async () => {
    const img = smoothImage(203, 61, 1, 11);
    const path = join(dir, 'rt_8_1.jpg');
    await writeImage(path, img);
    keepPixels(path, img);
    const bytes = readFileSync(path);
    const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]));
    expect([bytes[sof + 4], bytes[sof + 9]]).toEqual([8, 1]); // baseline, 8-bit, one component
    const back = await readImage(path);
    expect([back.width, back.height, back.channels, back.bitDepth]).toEqual([203, 61, 1, 8]);
    const rgba = new Uint8Array(203 * 61 * 4).map((_, i) => (i % 4 === 3 ? 255 : img.data[i >> 2]));
    const viaRgb = jpegDecode(jpegEncode({ data: rgba, width: 203, height: 61 }, 95).data, { useTArray: true, formatAsRGBA: false });
    const lumaOfRgb = viaRgb.data.filter((_, i) => i % 3 === 0);
    expect(Math.abs(psnr8(back.data, img.data) - psnr8(lumaOfRgb, img.data))).toBeLessThanOrEqual(0.5);
  });

  it('overwrites in place and leaves no temporary file', async () => {
    const path = join(dir, 'over.tif');
    await writeImage(path, testImage(5, 4, 1, 8, 1));
    await writeImage(path, testImage(6, 4, 1, 16, 2));
    expect((await readImage(path)).width).toBe(6);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('refuses what the format cannot hold, naming the file', async () => {
    const f32 = testImage(4, 4, 1, 32, 3);
    await expect(writeImage(join(dir, 'f.png'), f32)).rejects.toThrow(`cannot write ${join(dir, 'f.png')}: not supported: 32-bit float PNG`);
    await expect(writeImage(join(dir, 'f.jpg'), testImage(4, 4, 3, 16, 3))).rejects.toThrow('not supported: 16-bit JPEG');
    await expect(writeImage(join(dir, 'f.bmp'), testImage(4, 4, 1, 8, 3))).rejects.toThrow("unknown extension '.bmp'");
    await expect(writeImage(join(dir, 'no', 'such', 'f.png'), testImage(4, 4, 1, 8, 3))).rejects.toThrow('its folder does not exist');
    expect(existsSync(join(dir, 'f.png'))).toBe(false);
  });

  it('checks the Image it is given', async () => {
    const bad = { width: 4, height: 4, channels: 1, bitDepth: 16, data: new Uint8Array(16) } as unknown as Image;
    await expect(writeImage(join(dir, 'b.tif'), bad)).rejects.toThrow('a 16-bit image needs a Uint16Array, got Uint8Array');
    const short = { width: 4, height: 4, channels: 3, bitDepth: 8, data: new Uint8Array(16) } as Image;
    await expect(writeImage(join(dir, 'b.tif'), short)).rejects.toThrow('data has 16 values, expected 4×4×3 = 48');
    const two = { width: 4, height: 4, channels: 2, bitDepth: 8, data: new Uint8Array(32) } as unknown as Image;
    await expect(writeImage(join(dir, 'b.tif'), two)).rejects.toThrow('channels must be 1 or 3, got 2');
  });
});

describe.skipIf(!HAVE_DATA)('real files in ../shared/data against reference decoders', () => {
  for (const ref of manifest.real) {
    it(`${ref.file} (reference: ${ref.reader})`, async () => {
      const img = await readImage(join(DATA, ref.file));
      const [h, w, c = 1] = ref.shape;
      expect([img.height, img.width, img.channels, img.bitDepth]).toEqual([h, w, c, DTYPE_BITS[ref.dtype]]);
      const n = img.data.length;
      const ours = ref.samples.map((_: number, k: number) => img.data[hash32(k, SAMPLE_SEED) % n]);
      const sums = Array(c).fill(0);
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = img.data[i];
        sums[i % c] += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (ref.file.endsWith('.tif')) {
        expect(ours).toEqual(ref.samples);
        expect(sums).toEqual(ref.sum);
        expect([min, max]).toEqual([ref.min, ref.max]);
        return;
      }
      const maxDiff = Math.max(...ours.map((v: number, k: number) => Math.abs(v - ref.samples[k])));
      expect(maxDiff).toBeLessThanOrEqual(JPEG_TOL[c]);
      for (let ch = 0; ch < c; ch++) expect(Math.abs(sums[ch] - ref.sum[ch]) / (w * h)).toBeLessThanOrEqual(JPEG_MEAN_TOL);
    });
  }
});
