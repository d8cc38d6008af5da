// The one image type of the product and its file I/O. Formats are recognised by content on read and by extension
// on write; every failure is an Error whose message names the file and says what is wrong or not supported.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { decodePng, encodePng } from './png.js';
import { decodeJpeg, encodeJpeg } from './jpeg.js';
import { decodeTiff, decodeTiffStack, encodeTiff, encodeTiffStack, type Stack } from './tiff.js';
import { checkImageFile, unreadable } from './image_file.js';
import { sniffFormat } from './image_type.js';
import { fsCause } from '../io/fs_errors.js';

export { checkImage, IMAGE_EXTENSIONS, type Image } from './image_type.js';
import { checkImage, IMAGE_EXTENSIONS, type Image } from './image_type.js';

async function readBytes(path: string): Promise<Uint8Array> {
  const size = await checkImageFile(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw unreadable(path, err);
  }
  if (bytes.length !== size) throw new Error(`cannot read ${path}: it changed size while being read`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The first page / frame of a PNG, JPEG or TIFF file. */
export async function readImage(path: string): Promise<Image> {
  return (await decode(path, false))[0];
}

/** Every page of a multi-page TIFF (one element for PNG, JPEG and single-page TIFF). */
export async function readImagePages(path: string): Promise<Image[]> {
  return decode(path, true);
}

async function decode(path: string, allPages: boolean): Promise<Image[]> {
  const bytes = await readBytes(path);
  const format = sniffFormat(bytes, path);
  if (format === 'png') return [decodePng(bytes, path)];
  if (format === 'jpeg') return [decodeJpeg(bytes, path)];
  return decodeTiff(bytes, path, allPages);
}

/** Every page with its axes and physical metadata; PNG and JPEG are one-page stacks without metadata. */
export async function readStack(path: string): Promise<Stack> {
  const bytes = await readBytes(path);
  const format = sniffFormat(bytes, path);
  if (format === 'tiff') return decodeTiffStack(bytes, path);
  return { pages: await decode(path, false), meta: { axes: [] } };
}

/** A stack as TIFF (pages, axes and metadata kept); a one-page stack may also go to PNG or JPEG (metadata dropped).
 * `inputBitDepth`: the type the metadata describes, when the pages were converted (display ranges are dropped). */
export async function writeStack(path: string, stack: Stack, inputBitDepth?: number): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.tif' && ext !== '.tiff') {
    if (stack.pages.length !== 1) throw new Error(`cannot write ${path}: a ${stack.pages.length}-page stack needs a .tif output`);
    return writeImage(path, stack.pages[0]);
  }
  stack.pages.forEach((p, k) => checkImage(p, `writeStack ${path} page ${k + 1}`));
  let bytes: Uint8Array;
  try {
    bytes = encodeTiffStack(stack, inputBitDepth);
  } catch (err) {
    throw new Error(`cannot write ${path}: ${(err as Error).message}`);
  }
  writeBytes(path, bytes);
}

/** Writes by extension (.png, .tif/.tiff, .jpg/.jpeg at quality 95) through a temporary file and a rename. */
export async function writeImage(path: string, img: Image): Promise<void> {
  checkImage(img, `writeImage ${path}`);
  const ext = extname(path).toLowerCase();
  let bytes: Uint8Array;
  try {
    if (ext === '.png') bytes = encodePng(img);
    else if (ext === '.tif' || ext === '.tiff') bytes = encodeTiff(img);
    else if (ext === '.jpg' || ext === '.jpeg') bytes = encodeJpeg(img);
    else throw new Error(`unknown extension '${ext}' (use ${IMAGE_EXTENSIONS.join(', ')})`);
  } catch (err) {
    throw new Error(`cannot write ${path}: ${(err as Error).message}`);
  }
  writeBytes(path, bytes);
}

function writeBytes(path: string, bytes: Uint8Array): void {
  try {
    writeFileAtomic(path, bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot write ${path}: ${code === 'ENOENT' ? 'its folder does not exist' : fsCause(err)}`);
  }
}

/** The width × height window at (x0, y0) of an image, which must lie inside it. */
export function cropImage(img: Image, x0: number, y0: number, width: number, height: number): Image {
  if (x0 < 0 || y0 < 0 || x0 + width > img.width || y0 + height > img.height) {
    throw new Error(`cropImage: window ${width}×${height} at (${x0}, ${y0}) lies outside ${img.width}×${img.height}`);
  }
  const c = img.channels;
  const data = new (img.data.constructor as new (n: number) => Image['data'])(width * height * c);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * c, ((y0 + y) * img.width + x0 + width) * c), y * width * c);
  return { ...img, width, height, data };
}

/** The centred width × height window of an image (clamped to its size). */
export function centreCrop(img: Image, width: number, height = width): Image {
  const w = Math.min(width, img.width);
  const h = Math.min(height, img.height);
  return cropImage(img, (img.width - w) >> 1, (img.height - h) >> 1, w, h);
}

/** The width×height window at (x0, y0) of planar C×H×W data. */
export function cropPlanes(planes: Float32Array, channels: number, width: number, height: number, x0: number, y0: number, cw: number, ch: number): Float32Array {
  if (x0 < 0 || y0 < 0 || x0 + cw > width || y0 + ch > height) {
    throw new Error(`cropPlanes: window ${cw}×${ch} at (${x0}, ${y0}) lies outside ${width}×${height}`);
  }
  const out = new Float32Array(channels * cw * ch);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < ch; y++) {
      const src = c * width * height + (y0 + y) * width + x0;
      out.set(planes.subarray(src, src + cw), c * cw * ch + y * cw);
    }
  }
  return out;
}
