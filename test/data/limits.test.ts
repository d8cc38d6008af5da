// Hostile image files (issue 18, findings 2 and 3): decoding limits checked from the header and the file system
// before any pixel memory, and damaged data that is always the same clear error.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { decode as jpegDecode } from 'jpeg-js';
import { readImage } from '../../src/data/image.js';
import { setDecodeLimits, defaultMaxPixels } from '../../src/data/limits.js';
import { onWarning } from '../../src/data/warnings.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'data_io');

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/** A PNG whose IHDR says width×height but whose image data holds only `rows` rows (or the full image). */
function png(width: number, height: number, depth: number, colorType: number, rows: Buffer[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const data = deflateSync(Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), r]))));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', data), chunk('IEND', Buffer.alloc(0))]);
}

describe('limits and damaged data', () => {
  let dir: string;
  let limits: ReturnType<typeof setDecodeLimits>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'comi-limits-'));
    limits = setDecodeLimits({});
  });
  afterAll(() => {
    setDecodeLimits(limits);
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('a PNG with 10 of 4096 rows of data is an error naming the rows, at every size', async () => {
    const rows = (w: number) => Array.from({ length: 10 }, () => Buffer.alloc(w, 7));
    await expect(readImage(file('cut4096.png', png(4096, 4096, 8, 0, rows(4096))))).rejects.toThrow(/truncated PNG \(its image data holds 10 of 4096 rows\)/);
    // A decoder that trusts the header reads whatever its buffer holds here (pngjs did: an error or zeros, by chance).
    for (const size of [37, 100, 333, 1000, 1500]) {
      await expect(readImage(file(`cut${size}.png`, png(size, size, 8, 2, rows(size * 3))))).rejects.toThrow(`holds 10 of ${size} rows`);
    }
  });

  it('a 118-byte PNG declaring 20000² is refused from its header, or as truncated when the limit allows it', async () => {
    const bomb = png(20000, 20000, 8, 0, [Buffer.alloc(200)]);
    expect(bomb.length).toBeLessThan(200);
    setDecodeLimits({ maxPixels: 1e8 });
    await expect(readImage(file('bomb.png', bomb))).rejects.toThrow(/declares 20000×20000 = 400\.0 megapixels, above the limit of 100\.0 megapixels \(--max-pixels/);
    setDecodeLimits({ maxPixels: 1e9 });
    const t0 = performance.now();
    await expect(readImage(file('bomb.png', bomb))).rejects.toThrow(/truncated PNG \(its image data holds 0 of 20000 rows\)/);
    expect(performance.now() - t0).toBeLessThan(2000);
    setDecodeLimits(limits);
  });

  it('the default pixel limit follows the memory of the machine and refuses a 60000×60000 JPEG header', async () => {
    expect(defaultMaxPixels()).toBeGreaterThan(1e7);
    const b = Buffer.from(readFileSync(join(FIX, 'rgb444.jpg')));
    const sof = b.indexOf(Buffer.from([0xff, 0xc0]));
    b.writeUInt16BE(60000, sof + 5);
    b.writeUInt16BE(60000, sof + 7);
    const rss = process.memoryUsage().rss;
    await expect(readImage(file('huge.jpg', b))).rejects.toThrow(/declares 60000×60000 = 3600\.0 megapixels, above the limit/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 2 ** 20);
  });

  it('a file bigger than any image within the limit is refused before it is read', async () => {
    setDecodeLimits({ maxPixels: 1000 });
    await expect(readImage(file('big.png', Buffer.alloc(2 << 20)))).rejects.toThrow(/2\.0 MiB is more than an image of --max-pixels 1000 can take/);
    setDecodeLimits(limits);
  });

  it('only regular files are read: a symlink to /dev/zero and a FIFO are refused at once', async () => {
    symlinkSync('/dev/zero', join(dir, 'zero.png'));
    await expect(readImage(join(dir, 'zero.png'))).rejects.toThrow(/zero\.png: it is a character device, not an image file/);
    execFileSync('mkfifo', [join(dir, 'fifo.png')]);
    const t0 = performance.now();
    await expect(readImage(join(dir, 'fifo.png'))).rejects.toThrow(/fifo\.png: it is a FIFO \(named pipe\), not an image file/);
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(readImage(dir)).rejects.toThrow(/it is a folder/);
  });

  it('JPEG entropy data damaged so that jpeg-js decodes it silently is an error', async () => {
    const src = readFileSync(join(FIX, 'rgb444.jpg'));
    const scan = src.indexOf(Buffer.from([0xff, 0xda]));
    let silent = 0;
    let caught = 0;
    for (let at = scan + 14; at < src.length - 2; at++) {
      const b = Buffer.from(src);
      b[at] ^= 0x10;
      if (b[at] === 0xff || src[at] === 0xff || b[at - 1] === 0xff) continue;
      try {
        jpegDecode(b, { useTArray: true, tolerantDecoding: false, formatAsRGBA: false });
      } catch {
        continue; // jpeg-js itself already fails
      }
      silent++;
      try {
        await readImage(file('flip.jpg', b));
      } catch (err) {
        expect((err as Error).message).toMatch(/^cannot read .*flip\.jpg: corrupt JPEG data/);
        caught++;
      }
    }
    console.log(`JPEG: ${silent} one-bit flips of the entropy data that jpeg-js decodes without error; ${caught} of them are caught`);
    // The others change coefficients without putting the decoder out of step with the data: no decoder sees those
    // (libjpeg through PIL reports none of these flips). Those that leave bytes over are caught.
    expect(silent).toBeGreaterThan(100);
    expect(caught).toBeGreaterThan(silent / 10);
  });

  it('a 16-bit RGBA PNG with transparency warns that its alpha is dropped; an opaque one does not', async () => {
    const rgba = (alpha: number) => {
      const row = Buffer.alloc(4 * 8);
      for (let x = 0; x < 4; x++) row.writeUInt16BE(alpha, 8 * x + 6);
      return png(4, 2, 16, 6, [row, row]);
    };
    const warnings: string[] = [];
    const restore = onWarning((m) => warnings.push(m));
    try {
      expect((await readImage(file('clear.png', rgba(0x8000)))).channels).toBe(3);
      await readImage(file('opaque.png', rgba(0xffff)));
    } finally {
      restore();
    }
    expect(warnings).toEqual([`${join(dir, 'clear.png')}: alpha channel dropped (100 % of pixels are not opaque)`]);
  });

  it('an RGBA TIFF with transparency warns too', async () => {
    const warnings: string[] = [];
    const restore = onWarning((m) => warnings.push(m));
    try {
      expect((await readImage(join(FIX, 'rgba8.tif'))).channels).toBe(3);
    } finally {
      restore();
    }
    expect(warnings).toEqual([expect.stringMatching(/rgba8\.tif: alpha channel dropped \(\d+(\.\d+)? % of pixels are not opaque\)$/)]);
  });
});
