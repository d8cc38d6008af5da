// safetensors (8-byte little-endian header length, JSON header, raw little-endian data): checkpoints and weights
// in a format Python (`safetensors.torch.load_file`) and other tools open directly. Float32 only.

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export function encodeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
  }
  let json = JSON.stringify(header);
  const utf8 = new TextEncoder();
  json += ' '.repeat((8 - ((8 + utf8.encode(json).length) % 8)) % 8); // data starts 8-byte aligned
  const headerBytes = utf8.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, what = 'safetensors data'): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${what}: too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.length) throw new Error(`${what}: not a safetensors file (bad header length)`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    throw new Error(`${what}: not a safetensors file (header is not JSON)`);
  }
  const base = 8 + headerLen;
  const tensors: Record<string, NamedArray> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new Error(`${what}: tensor ${name} has dtype ${info.dtype}; only F32 is supported`);
    const [begin, end] = info.data_offsets as [number, number];
    if (base + end > bytes.length) throw new Error(`${what}: tensor ${name} runs past the end of the file (truncated?)`);
    const copy = bytes.slice(base + begin, base + end);
    tensors[name] = { shape: info.shape, data: new Float32Array(copy.buffer, copy.byteOffset, (end - begin) / 4) };
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
}
