// TIFF pages: decoding through geotiff, encoding by our own small baseline writer.
//
// geotiff (geotiffjs, MIT) rather than utif2: geotiff is actively released (3.x, 2026), ships TypeScript types, and
// returns each page as a typed array of the file's sample type (Uint16Array, Float32Array) already byte-swapped,
// predictor-undone and de-tiled, for strips or tiles, chunky or planar, LZW / deflate (both codes) / PackBits, classic
// or BigTIFF. utif2 (last release 2024, untyped) hands back raw strip bytes that we would have to byte-swap and
// un-plane ourselves. Neither writes 16-bit or float32 baseline TIFFs the way tifffile/Fiji expect, hence the writer.
import { fromArrayBuffer, getDecoder, type GeoTIFFImage } from 'geotiff';
import type { Image } from './image_type.js';
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

const BIG_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

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

/** The page axes of a stack, slowest first as ImageJ orders them (T, Z, C) or as OME's DimensionOrder says. */
export type StackAxis = 'T' | 'Z' | 'C';

export interface StackMeta {
  /** Sizes multiply to the page count; a plain multi-page TIFF is read as Z (as ImageJ does); [] for one page. */
  axes: { axis: StackAxis; size: number }[];
  /** Pixel size in `unit` (from ImageJ's unit and XResolution, the TIFF resolution unit, or OME PhysicalSizeX/Y). */
  pixelSize?: { x: number; y: number; unit: string };
  /** Z step in the same unit (ImageJ spacing, OME PhysicalSizeZ). */
  zSpacing?: number;
  channelNames?: string[];
  /** ImageJ description entries not modelled above (mode, min, max, loop, finterval, …), kept verbatim. */
  imagej?: Record<string, string>;
  /** The OME-XML of an OME-TIFF, written back unchanged but for the pixel type. */
  omeXml?: string;
}

export interface Stack {
  pages: Image[];
  meta: StackMeta;
}

const IMAGEJ_MODELLED = new Set(['ImageJ', 'images', 'channels', 'slices', 'frames', 'hyperstack', 'unit', 'spacing']);

function describePage(img: Image): string {
  return `${img.width}×${img.height} ${img.bitDepth === 32 ? 'float32' : `${img.bitDepth}-bit`} ${img.channels === 3 ? 'RGB' : 'gray'}`;
}

/** Every page with the stack's axes and physical metadata (ImageJ description, OME-XML, resolution tags). */
export async function decodeTiffStack(bytes: Uint8Array, path: string): Promise<Stack> {
  const pages = await decodeTiff(bytes, path, true);
  const odd = pages.findIndex((p) => p.width !== pages[0].width || p.height !== pages[0].height || p.channels !== pages[0].channels || p.bitDepth !== pages[0].bitDepth);
  if (odd > 0) {
    throw notSupported(`stack with pages of different sizes or types (page 1: ${describePage(pages[0])}, page ${odd + 1}: ${describePage(pages[odd])})`, path);
  }
  const fd = (await (await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)).getImage(0)).fileDirectory;
  const description = String((await fd.loadValue('ImageDescription')) ?? '').replace(/\0+$/, '');
  const meta: StackMeta = description.startsWith('<?xml') || description.startsWith('<OME')
    ? omeMeta(description, pages, path)
    : imagejMeta(description, pages.length, path);
  const xres = (await fd.loadValue('XResolution')) as ArrayLike<number> | undefined;
  const yres = (await fd.loadValue('YResolution')) as ArrayLike<number> | undefined;
  const resUnit = Number((await fd.loadValue('ResolutionUnit')) ?? 2); // TIFF's default is inch
  if (!meta.pixelSize && xres && yres && xres[0] > 0 && yres[0] > 0) {
    // Pixels per unit → unit per pixel; inch and cm become microns, a unitless resolution needs ImageJ's unit.
    const per = (r: ArrayLike<number>) => r[1] / r[0];
    const scale = resUnit === 2 ? 25400 : resUnit === 3 ? 1e4 : 1;
    const unit = resUnit === 1 ? meta.imagej?.unit : 'micron';
    if (unit) meta.pixelSize = { x: per(xres) * scale, y: per(yres) * scale, unit };
  }
  if (meta.imagej) delete meta.imagej.unit;
  if (meta.imagej && Object.keys(meta.imagej).length === 0) delete meta.imagej;
  return { pages, meta };
}

function imagejMeta(description: string, pageCount: number, path: string): StackMeta {
  const meta: StackMeta = { axes: pageCount > 1 ? [{ axis: 'Z', size: pageCount }] : [] };
  if (!description.startsWith('ImageJ=')) return meta;
  const kv: Record<string, string> = {};
  for (const line of description.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  const size = (k: string) => (kv[k] === undefined ? 1 : Number(kv[k]));
  const [t, z, c] = [size('frames'), size('slices'), size('channels')];
  if (![t, z, c].every((v) => Number.isInteger(v) && v >= 1) || t * z * c !== pageCount) {
    throw notSupported(`ImageJ stack layout (its description lists frames=${kv.frames ?? 1}, slices=${kv.slices ?? 1}, channels=${kv.channels ?? 1}; the file has ${pageCount} pages)`, path);
  }
  meta.axes = ([['T', t], ['Z', z], ['C', c]] as [StackAxis, number][]).filter(([, n]) => n > 1).map(([axis, n]) => ({ axis, size: n }));
  if (kv.spacing !== undefined && Number(kv.spacing) > 0) meta.zSpacing = Number(kv.spacing);
  meta.imagej = Object.fromEntries(Object.entries(kv).filter(([k]) => !IMAGEJ_MODELLED.has(k) || k === 'unit'));
  return meta;
}

function xmlAttrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:]+)\s*=\s*"([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

/** Micrometres per OME length unit; other units are kept as named. */
const OME_UNIT: Record<string, string> = { 'µm': 'micron', 'um': 'micron', 'nm': 'nm', 'mm': 'mm' };

function omeMeta(xml: string, pages: Image[], path: string): StackMeta {
  const images = xml.match(/<(?:\w+:)?Image\b/g)?.length ?? 0;
  if (images !== 1) throw notSupported(`OME-TIFF layout with ${images} images (series) in one file (readable: one image per file)`, path);
  if (/<(?:\w+:)?UUID\b[^>]*FileName=/.test(xml)) throw notSupported('OME-TIFF layout with planes in other files (multi-file OME)', path);
  const pixelsTag = xml.match(/<(?:\w+:)?Pixels\b[^>]*>/);
  if (!pixelsTag) throw new Error(`cannot read ${path}: its OME-XML has no Pixels element`);
  const px = xmlAttrs(pixelsTag[0]);
  const order = px.DimensionOrder ?? '';
  const sizes: Record<string, number> = { Z: Number(px.SizeZ ?? 1), C: Number(px.SizeC ?? 1), T: Number(px.SizeT ?? 1) };
  if (!/^XY[ZCT]{3}$/.test(order) || new Set(order).size !== 5 || !Object.values(sizes).every((v) => Number.isInteger(v) && v >= 1)) {
    throw notSupported(`OME-TIFF layout with DimensionOrder '${order}' and sizes Z=${px.SizeZ} C=${px.SizeC} T=${px.SizeT}`, path);
  }
  if (pages[0].channels === 3) sizes.C /= 3; // RGB pages hold three OME channels each
  const planes = sizes.Z * sizes.C * sizes.T;
  if (planes !== pages.length) throw notSupported(`OME-TIFF layout: its OME-XML describes ${planes} planes, the file has ${pages.length} pages`, path);
  const meta: StackMeta = {
    axes: [...order.slice(2)].reverse().filter((a) => sizes[a] > 1).map((a) => ({ axis: a as StackAxis, size: sizes[a] })),
    omeXml: xml,
  };
  const unit = (u: string | undefined) => OME_UNIT[u ?? 'µm'] ?? u!;
  if (Number(px.PhysicalSizeX) > 0) {
    meta.pixelSize = { x: Number(px.PhysicalSizeX), y: Number(px.PhysicalSizeY ?? px.PhysicalSizeX), unit: unit(px.PhysicalSizeXUnit) };
  }
  if (Number(px.PhysicalSizeZ) > 0) meta.zSpacing = Number(px.PhysicalSizeZ);
  const names = [...xml.matchAll(/<(?:\w+:)?Channel\b[^>]*>/g)].map((m) => xmlAttrs(m[0]).Name);
  if (names.length && names.every((n) => n !== undefined)) meta.channelNames = names;
  return meta;
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
  ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Compression: 259, Photometric: 262, ImageDescription: 270,
  StripOffsets: 273, SamplesPerPixel: 277, RowsPerStrip: 278, StripByteCounts: 279, XResolution: 282, YResolution: 283,
  PlanarConfiguration: 284, ResolutionUnit: 296, SampleFormat: 339,
};
const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
const STRIP_BYTES = 1 << 18;
const OME_TYPE: Record<number, string> = { 8: 'uint8', 16: 'uint16', 32: 'float' };

/** v as a TIFF rational, numerator and denominator as large as uint32 allows (precision). */
function rational(v: number): [number, number] {
  const den = Math.floor(0xffffffff / Math.max(1, Math.ceil(v)));
  return [Math.round(v * den), den];
}

/**
 * The description that makes Fiji see the stack as it was: ImageJ's hyperstack header (pages C fastest, then Z,
 * then T) with unit and spacing, or the input's OME-XML with its pixel type updated.
 */
function stackDescription(pages: Image[], meta: StackMeta, dtypeChanged: boolean): string {
  if (meta.omeXml) {
    return meta.omeXml.replace(/(<(?:\w+:)?Pixels\b[^>]*\bType=")[^"]*"/, `$1${OME_TYPE[pages[0].bitDepth]}"`);
  }
  const size = (a: StackAxis) => meta.axes.find((x) => x.axis === a)?.size ?? 1;
  const order = meta.axes.map((a) => a.axis).join('');
  if (!['', 'T', 'Z', 'C', 'TZ', 'TC', 'ZC', 'TZC'].includes(order)) throw new Error(`not supported: ImageJ cannot hold the page order ${order} (it needs T, Z, C from slowest to fastest)`);
  const lines = ['ImageJ=1.11a', `images=${pages.length}`];
  if (size('C') > 1) lines.push(`channels=${size('C')}`);
  if (size('Z') > 1) lines.push(`slices=${size('Z')}`);
  if (size('T') > 1) lines.push(`frames=${size('T')}`);
  if (meta.axes.length > 1) lines.push('hyperstack=true');
  if (meta.pixelSize) lines.push(`unit=${meta.pixelSize.unit}`);
  if (meta.zSpacing !== undefined) lines.push(`spacing=${meta.zSpacing}`);
  // Display ranges are in the input's units: they would be wrong after a change of type.
  for (const [k, v] of Object.entries(meta.imagej ?? {})) if (!(dtypeChanged && (k === 'min' || k === 'max'))) lines.push(`${k}=${v}`);
  return `${lines.join('\n')}\n`;
}

/** Little-endian, uncompressed, chunky, strips of about 256 KiB; SampleFormat 3 marks float32. */
export function encodeTiff(img: Image): Uint8Array {
  return encodeTiffStack({ pages: [img], meta: { axes: [] } });
}

/**
 * A stack as one TIFF: one IFD per page, in order; the first page carries the description (stackDescription) and
 * every page the pixel size as XResolution/YResolution in pixels per unit (ResolutionUnit none, as ImageJ writes).
 * `inputBitDepth`: the bit depth the metadata was read with, when the pages were converted.
 */
export function encodeTiffStack(stack: Stack, inputBitDepth?: number): Uint8Array {
  const { pages, meta } = stack;
  if (pages.length === 0) throw new Error('a stack needs at least one page');
  const first = pages[0];
  for (const [k, p] of pages.entries()) {
    if (p.width !== first.width || p.height !== first.height || p.channels !== first.channels || p.bitDepth !== first.bitDepth) {
      throw new Error(`page ${k + 1} is ${describePage(p)}, page 1 is ${describePage(first)}: a stack's pages must match`);
    }
  }
  const { width, height, channels, bitDepth } = first;
  const bytesPerSample = bitDepth / 8;
  const rowBytes = width * channels * bytesPerSample;
  const rowsPerStrip = Math.max(1, Math.min(height, Math.floor(STRIP_BYTES / rowBytes)));
  const strips = Math.ceil(height / rowsPerStrip);
  const pixelBytes = rowBytes * height;
  const describe = pages.length > 1 || meta.pixelSize !== undefined || meta.omeXml !== undefined || meta.imagej !== undefined;
  const description = describe ? new TextEncoder().encode(`${stackDescription(pages, meta, inputBitDepth !== undefined && inputBitDepth !== bitDepth)}\0`) : null;

  type Entry = { tag: number; type: number; values: number[] | Uint8Array };
  const perSample = (v: number) => Array<number>(channels).fill(v);
  const stripCounts = Array.from({ length: strips }, (_, s) => Math.min(rowsPerStrip, height - s * rowsPerStrip) * rowBytes);
  const res = (v: number | undefined) => (v !== undefined && v > 0 ? rational(1 / v) : [1, 1]);
  const entriesFor = (page: number): Entry[] => [
    { tag: TAG.ImageWidth, type: LONG, values: [width] },
    { tag: TAG.ImageLength, type: LONG, values: [height] },
    { tag: TAG.BitsPerSample, type: SHORT, values: perSample(bitDepth) },
    { tag: TAG.Compression, type: SHORT, values: [1] },
    { tag: TAG.Photometric, type: SHORT, values: [channels === 3 ? 2 : 1] },
    ...(page === 0 && description ? [{ tag: TAG.ImageDescription, type: ASCII, values: description }] : []),
    { tag: TAG.StripOffsets, type: LONG, values: Array<number>(strips).fill(0) }, // filled below
    { tag: TAG.SamplesPerPixel, type: SHORT, values: [channels] },
    { tag: TAG.RowsPerStrip, type: LONG, values: [rowsPerStrip] },
    { tag: TAG.StripByteCounts, type: LONG, values: stripCounts },
    { tag: TAG.XResolution, type: RATIONAL, values: res(meta.pixelSize?.x) },
    { tag: TAG.YResolution, type: RATIONAL, values: res(meta.pixelSize?.y) },
    { tag: TAG.PlanarConfiguration, type: SHORT, values: [1] },
    { tag: TAG.ResolutionUnit, type: SHORT, values: [1] },
    { tag: TAG.SampleFormat, type: SHORT, values: perSample(bitDepth === 32 ? 3 : 1) },
  ];
  const size = (e: Entry) => e.values.length * (e.type === ASCII ? 1 : e.type === SHORT ? 2 : 4);
  const even = (n: number) => n + (n & 1); // word-aligned, as TIFF 6.0 asks

  // Layout: header (8), then per page: IFD | out-of-line values | pixel data (strips back to back).
  const layout = pages.map((_, k) => {
    const entries = entriesFor(k);
    const ifdBytes = 2 + entries.length * 12 + 4;
    const extraBytes = entries.reduce((a, e) => a + (size(e) > 4 ? even(size(e)) : 0), 0);
    return { entries, ifdBytes, extraBytes, pageBytes: ifdBytes + extraBytes + even(pixelBytes) };
  });
  const total = 8 + layout.reduce((a, l) => a + l.pageBytes, 0);
  if (total > 0xffffffff) throw new Error(`not supported: TIFF over 4 GiB (${pages.length} page(s) of ${width}×${height}×${channels}, ${bitDepth}-bit)`);

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  dv.setUint32(4, 8, true);
  let at = 8;
  for (const [k, { entries, ifdBytes, extraBytes, pageBytes }] of layout.entries()) {
    const dataStart = at + ifdBytes + extraBytes;
    entries.find((e) => e.tag === TAG.StripOffsets)!.values = stripCounts.map((_, s) => dataStart + s * rowsPerStrip * rowBytes);
    dv.setUint16(at, entries.length, true);
    let extra = at + ifdBytes;
    entries.forEach((e, i) => {
      const pos0 = at + 2 + i * 12;
      dv.setUint16(pos0, e.tag, true);
      dv.setUint16(pos0 + 2, e.type, true);
      dv.setUint32(pos0 + 4, e.type === RATIONAL ? e.values.length / 2 : e.values.length, true);
      let pos = pos0 + 8;
      if (size(e) > 4) {
        dv.setUint32(pos, extra, true);
        pos = extra;
        extra += even(size(e));
      }
      if (e.type === ASCII) out.set(e.values as Uint8Array, pos);
      else for (const v of e.values) {
        if (e.type === SHORT) dv.setUint16(pos, v, true);
        else dv.setUint32(pos, v, true);
        pos += e.type === SHORT ? 2 : 4;
      }
    });
    const next = k + 1 < pages.length ? at + pageBytes : 0;
    dv.setUint32(at + 2 + entries.length * 12, next, true);

    const img = pages[k];
    out.set(new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength), dataStart);
    if (BIG_ENDIAN_HOST && bitDepth > 8) {
      // Samples are written little-endian (the header says II).
      const bytes = bitDepth / 8;
      for (let i = dataStart; i < dataStart + pixelBytes; i += bytes) out.subarray(i, i + bytes).reverse();
    }
    at += pageBytes;
  }
  return out;
}
