// NumPy .npy (format 1.0): the tensor file bioimage.io test tensors use. Little-endian, C order.
const DESCR = { uint8: '|u1', uint16: '<u2', float32: '<f4' } as const;
const BYTES = { uint8: 1, uint16: 2, float32: 4 } as const;

export function encodeNpy(data: ArrayLike<number>, dtype: keyof typeof DESCR, shape: number[]): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`npy: ${data.length} values do not fill shape [${shape}]`);
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces and a newline to a multiple of 64.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * BYTES[dtype]);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const at = 10 + header.length;
  for (let i = 0; i < data.length; i++) {
    if (dtype === 'uint8') out[at + i] = data[i];
    else if (dtype === 'uint16') dv.setUint16(at + 2 * i, data[i], true);
    else dv.setFloat32(at + 4 * i, data[i], true);
  }
  return out;
}

