// Minimal zip reader for torch.save archives: the central directory, stored and deflated entries, CRC-checked.
// torch writes stored entries below 4 GiB, so zip64, encryption and multi-disk archives are refused by name.
import { inflateRawSync, crc32 } from 'node:zlib';

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localOffset: number;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  constructor(private bytes: Uint8Array, private what: string) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const eocd = findEocd(view);
    if (eocd < 0) throw new Error(`${what}: not a zip archive, or truncated (no end-of-directory record)`);
    const count = view.getUint16(eocd + 10, true);
    const cdSize = view.getUint32(eocd + 12, true);
    const cdOffset = view.getUint32(eocd + 16, true);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new Error(`${what}: zip64 archives are not supported`);
    if (view.getUint16(eocd + 4, true) !== 0 || cdOffset + cdSize > eocd) throw new Error(`${what}: damaged zip directory`);
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > eocd || view.getUint32(p, true) !== CENTRAL_SIG) throw new Error(`${what}: damaged zip directory (entry ${i})`);
      const flags = view.getUint16(p + 8, true);
      const nameLen = view.getUint16(p + 28, true);
      const entry: ZipEntry = {
        name: Buffer.from(bytes.subarray(p + 46, p + 46 + nameLen)).toString('utf8'),
        method: view.getUint16(p + 10, true),
        crc: view.getUint32(p + 16, true),
        compressedSize: view.getUint32(p + 20, true),
        size: view.getUint32(p + 24, true),
        localOffset: view.getUint32(p + 42, true),
      };
      if (flags & 1) throw new Error(`${what}: entry ${entry.name} is encrypted`);
      if (entry.size === 0xffffffff || entry.compressedSize === 0xffffffff || entry.localOffset === 0xffffffff) {
        throw new Error(`${what}: zip64 archives are not supported`);
      }
      this.entries.set(entry.name, entry);
      p += 46 + nameLen + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The entry's bytes (a view into the archive for stored entries); checks its CRC. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.what}: no entry ${name} in the archive`);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    if (e.localOffset + 30 > this.bytes.length || view.getUint32(e.localOffset, true) !== LOCAL_SIG) {
      throw new Error(`${this.what}: damaged zip entry ${name}`);
    }
    const start = e.localOffset + 30 + view.getUint16(e.localOffset + 26, true) + view.getUint16(e.localOffset + 28, true);
    if (start + e.compressedSize > this.bytes.length) throw new Error(`${this.what}: entry ${name} runs past the end of the file (truncated?)`);
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    let data: Uint8Array;
    if (e.method === 0) data = raw;
    else if (e.method === 8) {
      try {
        data = inflateRawSync(raw);
      } catch (err) {
        throw new Error(`${this.what}: entry ${name} does not inflate (${(err as Error).message})`);
      }
    } else throw new Error(`${this.what}: entry ${name} uses zip compression method ${e.method}; only stored and deflate are supported`);
    if (data.length !== e.size || crc32(data) !== e.crc) throw new Error(`${this.what}: entry ${name} is corrupt (size or CRC mismatch)`);
    return data;
  }
}

function findEocd(view: DataView): number {
  const min = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let p = view.byteLength - 22; p >= min; p--) if (view.getUint32(p, true) === EOCD_SIG) return p;
  return -1;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}
