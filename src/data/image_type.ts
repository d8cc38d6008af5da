// The one image type of the product, its checks, and its file formats recognised by content (names can lie).
export interface Image {
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16 | 32;
  /** Interleaved H×W×C; Float32Array iff bitDepth is 32. */
  data: Uint8Array | Uint16Array | Float32Array;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff'];

/** Throws unless img is a well-formed Image (what is wrong, and where: `what` names it). */
export function checkImage(img: Image, what = 'image'): void {
  if (!img || typeof img !== 'object') throw new Error(`${what}: expected an Image, got ${img === null ? 'null' : typeof img}`);
  const { width, height, channels, bitDepth, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${what}: width and height must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`${what}: channels must be 1 or 3, got ${channels}`);
  const want = bitDepth === 8 ? Uint8Array : bitDepth === 16 ? Uint16Array : bitDepth === 32 ? Float32Array : null;
  if (!want) throw new Error(`${what}: bitDepth must be 8, 16 or 32, got ${bitDepth}`);
  if (!(data instanceof want)) throw new Error(`${what}: a ${bitDepth}-bit image needs a ${want.name}, got ${data?.constructor?.name ?? typeof data}`);
  if (data.length !== width * height * channels) {
    throw new Error(`${what}: data has ${data.length} values, expected ${width}×${height}×${channels} = ${width * height * channels}`);
  }
}

export type Format = 'png' | 'jpeg' | 'tiff';

export function sniffFormat(b: Uint8Array, path: string): Format {
  const starts = (...sig: number[]) => b.length >= sig.length && sig.every((v, i) => b[i] === v);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
  if (starts(0x49, 0x49, 42, 0) || starts(0x4d, 0x4d, 0, 42) || starts(0x49, 0x49, 43, 0) || starts(0x4d, 0x4d, 0, 43)) return 'tiff';
  throw new Error(`not supported: file format of ${path} (not a PNG, JPEG or TIFF file)`);
}
