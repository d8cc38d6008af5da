// TIFF pages: decoding through geotiff, encoding by our own small baseline writer.
//
// geotiff (geotiffjs, MIT) rather than utif2: geotiff is actively released (3.x, 2026), ships TypeScript types, and
// returns each page as a typed array of the file's sample type (Uint16Array, Float32Array) already byte-swapped,
// predictor-undone and de-tiled, for strips or tiles, chunky or planar, LZW / deflate (both codes) / PackBits, classic
// or BigTIFF. utif2 (last release 2024, untyped) hands back raw strip bytes that we would have to byte-swap and
// un-plane ourselves. Neither writes 16-bit or float32 baseline TIFFs the way tifffile/Fiji expect, hence the writer.
import { fromArrayBuffer, getDecoder, type GeoTIFFImage } from 'geotiff';
import { endianness } from 'node:os';
import type { Image } from './image.js';
import { checkPixels } from './limits.js';
import { warn } from './warnings.js';

const COMPRESSION: Record<number, string> = {
  1: 'uncompressed', 2: 'CCITT RLE', 3: 'CCITT fax 3', 4: 'CCITT fax 4', 5: 'LZW', 6: 'old-style JPEG', 7: 'JPEG',
  8: 'deflate', 32773: 'PackBits', 32946: 'deflate', 34887: 'LERC', 34925: 'LZMA', 50000: 'Zstandard', 50001: 'WebP',
};
const READABLE_COMPRESSION = new Set([1, 5, 8, 32773, 32946]);
const PHOTOMETRIC: Record<number, string> = {
  0: 'min-is-white', 1: 'min-is-black', 2: 'RGB', 3: 'palette', 4: 'transparency mask', 5: 'CMYK', 6: 'YCbCr', 8: 'CIELab',
};

function notSupported(what: string, path: string): Error {
  return new Error(`not supported: ${what} in ${path}`);
}

/** Decodes the first page, or every page when `all`. */
export async function decodeTiff(bytes: Uint8Array, path: string, all: boolean): Promise<Image[]> {
  let tiff;
  try {
    tiff = await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  } catch (err) {
    throw new Error(`cannot read ${path}: corrupt TIFF header (${(err as Error).message})`);
  }
  let count = 1;
  if (all) {
    try {
      count = await tiff.getImageCount();
    } catch (err) {
      throw new Error(`cannot read ${path}: corrupt TIFF page directory (${(err as Error).message})`);
    }
  }
  const pages: Image[] = [];
  for (let p = 0; p < count; p++) {
    const where = count > 1 ? `${path} (page ${p + 1} of ${count})` : path;
    let page: GeoTIFFImage;
    try {
      page = await tiff.getImage(p);
    } catch (err) {
      throw new Error(`cannot read ${where}: corrupt TIFF page directory (${(err as Error).message})`);
    }
    try {
      pages.push(await decodePage(page, where, bytes.byteLength));
    } catch (err) {
      // geotiff reads tags lazily: a damaged directory can fail in any accessor, with a message of its own.
      const message = (err as Error).message;
      throw /^(cannot read|not supported)/.test(message) ? err : new Error(`cannot read ${where}: corrupt TIFF page directory (${message})`);
    }
  }
  return pages;
}

/** geotiff reads strips past the end of the file as short buffers, and zero-fills what a short LZW or deflate
 * stream leaves out: every strip or tile must lie inside the file and decode to its full size. */
async function strictDecoders(page: GeoTIFFImage, where: string, fileBytes: number) {
  const fd = page.fileDirectory;
  const tiled = page.isTiled;
  const offsets = await fd.loadValue(tiled ? 'TileOffsets' : 'StripOffsets');
  const counts = await fd.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts');
  if (!offsets || !counts || offsets.length !== counts.length) throw new Error(`cannot read ${where}: corrupt TIFF (strip or tile table missing)`);
  for (let i = 0; i < offsets.length; i++) {
    if (Number(offsets[i]) + Number(counts[i]) > fileBytes) throw new Error(`cannot read ${where}: truncated TIFF (image data ends beyond the end of the file)`);
  }
  const blockWidth = page.getTileWidth();
  const blockHeight = page.getTileHeight();
  const planar = Number(fd.getValue('PlanarConfiguration') ?? 1) === 2;
  const bytesPerPixel = planar ? page.getSampleByteSize(0) : page.getBytesPerPixel();
  const full = blockWidth * blockHeight * bytesPerPixel;
  const lastStrip = tiled ? full : (page.getHeight() - (Math.ceil(page.getHeight() / blockHeight) - 1) * blockHeight) * blockWidth * bytesPerPixel;
  return {
    bindParameters(compression: number, params: unknown) {
      return {
        async decode(block: ArrayBuffer): Promise<ArrayBufferLike> {
          const decoder = await getDecoder(compression, params as never);
          // geotiff's LZW decoder prints a console warning and stops early when its data ends without an end
          // code; its decodeBlock is synchronous, so swapping console.warn around it catches only that warning.
          const warnings: string[] = [];
          const consoleWarn = console.warn;
          console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
          let out: ArrayBufferLike;
          try {
            out = await decoder.decode(block);
          } finally {
            console.warn = consoleWarn;
          }
          if (warnings.length) throw new Error(warnings[0]);
          if (out.byteLength < full && out.byteLength !== lastStrip) {
            throw new Error(`a strip or tile decodes to ${out.byteLength} of ${full} bytes`);
          }
          return out;
        },
      };
    },
  };
}

async function decodePage(page: GeoTIFFImage, where: string, fileBytes: number): Promise<Image> {
  const fd = page.fileDirectory;
  const width = page.getWidth();
  const height = page.getHeight();
  const spp = page.getSamplesPerPixel();
  const compression = Number(fd.getValue('Compression') ?? 1);
  const photometric = Number(fd.getValue('PhotometricInterpretation') ?? 1);
  if (!READABLE_COMPRESSION.has(compression)) {
    throw notSupported(`TIFF compression ${COMPRESSION[compression] ?? `code ${compression}`} (readable: uncompressed, LZW, deflate, PackBits)`, where);
  }
  let channels: 1 | 3;
  if (photometric === 1 && spp >= 1 && spp <= 2) channels = 1; // a second sample is alpha (ExtraSamples): dropped
  else if (photometric === 2 && spp >= 3 && spp <= 4) channels = 3; // a fourth sample is alpha: dropped
  else throw notSupported(`TIFF with ${spp} sample(s) per pixel, ${PHOTOMETRIC[photometric] ?? `photometric ${photometric}`} (readable: gray, RGB)`, where);
  const bits = fd.getValue('BitsPerSample') === undefined ? 1 : page.getBitsPerSample(0); // TIFF's default is 1
  const format = page.getSampleFormat(0);
  for (let s = 1; s < channels; s++) {
    if (page.getBitsPerSample(s) !== bits || page.getSampleFormat(s) !== format) {
      throw notSupported('TIFF with samples of different types', where);
    }
  }
  const kind = format === 3 ? 'float' : format === 2 ? 'signed integer' : 'unsigned integer';
  let bitDepth: 8 | 16 | 32;
  if (format === 1 && (bits === 8 || bits === 16)) bitDepth = bits;
  else if (format === 3 && bits === 32) bitDepth = 32;
  else throw notSupported(`${bits}-bit ${kind} TIFF (readable: 8/16-bit unsigned, 32-bit float)`, where);
  if (!(width > 0 && height > 0)) throw new Error(`cannot read ${where}: TIFF page of size ${width}×${height}`);
  checkPixels(width, height, where);
  const pool = await strictDecoders(page, where, fileBytes);

  let raster;
  try {
    raster = await page.readRasters({ interleave: true, samples: channels === 1 ? [0] : [0, 1, 2], pool: pool as never });
  } catch (err) {
    throw new Error(`cannot read ${where}: corrupt or truncated TIFF image data (${(err as Error).message})`);
  }
  const n = width * height * channels;
  const data = bitDepth === 8 ? new Uint8Array(n) : bitDepth === 16 ? new Uint16Array(n) : new Float32Array(n);
  if (raster.length !== n) throw new Error(`cannot read ${where}: decoded ${raster.length} samples, expected ${n}`);
  data.set(raster as ArrayLike<number>);
  if (page.getSamplesPerPixel() > channels) await warnIfTransparent(page, channels, where, pool);
  return { width, height, channels, bitDepth, data };
}

/** The sample after the colour samples is alpha (ExtraSamples): dropped, with a warning unless it is all opaque. */
async function warnIfTransparent(page: GeoTIFFImage, index: number, where: string, pool: unknown): Promise<void> {
  let alpha;
  try {
    [alpha] = (await page.readRasters({ samples: [index], pool: pool as never })) as unknown as ArrayLike<number>[];
  } catch (err) {
    throw new Error(`cannot read ${where}: corrupt or truncated TIFF alpha data (${(err as Error).message})`);
  }
  const opaque = page.getSampleFormat(index) === 3 ? 1 : 2 ** page.getBitsPerSample(index) - 1;
  let clear = 0;
  for (let i = 0; i < alpha.length; i++) if (alpha[i] !== opaque) clear++;
  if (clear > 0) warn(`${where}: alpha channel dropped (${((100 * clear) / alpha.length).toPrecision(3)} % of pixels are not opaque)`);
}

// Baseline tags, in the ascending order TIFF requires.
const TAG = {
  ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Compression: 259, Photometric: 262, StripOffsets: 273,
  SamplesPerPixel: 277, RowsPerStrip: 278, StripByteCounts: 279, XResolution: 282, YResolution: 283,
  PlanarConfiguration: 284, ResolutionUnit: 296, SampleFormat: 339,
};
const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
const STRIP_BYTES = 1 << 18;

/** Little-endian, uncompressed, chunky, strips of about 256 KiB; SampleFormat 3 marks float32. */
export function encodeTiff(img: Image): Uint8Array {
  const { width, height, channels, bitDepth } = img;
  const bytesPerSample = bitDepth / 8;
  const rowBytes = width * channels * bytesPerSample;
  const rowsPerStrip = Math.max(1, Math.min(height, Math.floor(STRIP_BYTES / rowBytes)));
  const strips = Math.ceil(height / rowsPerStrip);
  const pixelBytes = rowBytes * height;
  if (pixelBytes > 0xffffffff - (1 << 20)) throw new Error(`not supported: TIFF over 4 GiB (${width}×${height}×${channels}, ${bitDepth}-bit)`);

  type Entry = { tag: number; type: number; values: number[] };
  const perSample = (v: number) => Array<number>(channels).fill(v);
  const stripCounts = Array.from({ length: strips }, (_, s) => Math.min(rowsPerStrip, height - s * rowsPerStrip) * rowBytes);
  const entries: Entry[] = [
    { tag: TAG.ImageWidth, type: LONG, values: [width] },
    { tag: TAG.ImageLength, type: LONG, values: [height] },
    { tag: TAG.BitsPerSample, type: SHORT, values: perSample(bitDepth) },
    { tag: TAG.Compression, type: SHORT, values: [1] },
    { tag: TAG.Photometric, type: SHORT, values: [channels === 3 ? 2 : 1] },
    { tag: TAG.StripOffsets, type: LONG, values: [] }, // filled below
    { tag: TAG.SamplesPerPixel, type: SHORT, values: [channels] },
    { tag: TAG.RowsPerStrip, type: LONG, values: [rowsPerStrip] },
    { tag: TAG.StripByteCounts, type: LONG, values: stripCounts },
    { tag: TAG.XResolution, type: RATIONAL, values: [1, 1] },
    { tag: TAG.YResolution, type: RATIONAL, values: [1, 1] },
    { tag: TAG.PlanarConfiguration, type: SHORT, values: [1] },
    { tag: TAG.ResolutionUnit, type: SHORT, values: [1] },
    { tag: TAG.SampleFormat, type: SHORT, values: perSample(bitDepth === 32 ? 3 : 1) },
  ];
  const size = (e: Entry) => e.values.length * (e.type === SHORT ? 2 : 4);
  // Layout: header (8) | IFD | out-of-line values | pixel data (strips back to back).
  const ifdBytes = 2 + entries.length * 12 + 4;
  const extraStart = 8 + ifdBytes;
  let extraBytes = 0;
  entries.find((e) => e.tag === TAG.StripOffsets)!.values = Array(strips).fill(0);
  for (const e of entries) if (size(e) > 4) extraBytes += size(e);
  const dataStart = extraStart + extraBytes + (extraBytes & 1); // word-aligned, as TIFF 6.0 asks
  entries.find((e) => e.tag === TAG.StripOffsets)!.values = stripCounts.map((_, s) => dataStart + s * rowsPerStrip * rowBytes);

  const out = new Uint8Array(dataStart + pixelBytes);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  dv.setUint32(4, 8, true);
  dv.setUint16(8, entries.length, true);
  let extra = extraStart;
  entries.forEach((e, k) => {
    const at = 10 + k * 12;
    dv.setUint16(at, e.tag, true);
    dv.setUint16(at + 2, e.type, true);
    dv.setUint32(at + 4, e.type === RATIONAL ? e.values.length / 2 : e.values.length, true);
    let pos = at + 8;
    if (size(e) > 4) {
      dv.setUint32(pos, extra, true);
      pos = extra;
      extra += size(e);
    }
    for (const v of e.values) {
      if (e.type === SHORT) dv.setUint16(pos, v, true);
      else dv.setUint32(pos, v, true);
      pos += e.type === SHORT ? 2 : 4;
    }
  });
  dv.setUint32(10 + entries.length * 12, 0, true); // no next IFD

  const pixels = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  out.set(pixels, dataStart);
  if (endianness() === 'BE' && bitDepth > 8) {
    const swap = Buffer.from(out.buffer, dataStart, pixelBytes);
    if (bitDepth === 16) swap.swap16();
    else swap.swap32();
  }
  return out;
}
