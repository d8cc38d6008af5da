// Writes a float32 state dict in torch.save's zip format (PyTorch ≥ 1.6), so torch.load and
// model.load_state_dict take our weights without conversion (bioimage.io's pytorch_state_dict weights).
// The pickle is the one torch writes for an OrderedDict of tensors: protocol 2, each tensor rebuilt by
// torch._utils._rebuild_tensor_v2 from a persistent storage id whose bytes are the zip entry data/<key>.
import { zipSync } from 'fflate';

class Pickler {
  private parts: number[] = [];
  private enc = new TextEncoder();
  op(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  private u32(v: number): this {
    return this.op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...this.enc.encode(`${module}\n${name}\n`)); // GLOBAL
  }
  str(s: string): this {
    const b = this.enc.encode(s);
    return this.op(0x58).u32(b.length).op(...b); // BINUNICODE
  }
  int(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new Error(`torch_save: integer ${v} out of range`);
    return this.op(0x4a).u32(v); // BININT
  }
  tuple(items: (() => void)[]): this {
    this.op(0x28); // MARK
    for (const f of items) f();
    return this.op(0x74); // TUPLE
  }
  emptyOrderedDict(): this {
    return this.global('collections', 'OrderedDict').op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function contiguousStrides(shape: number[]): number[] {
  const s = Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** torch.save(state_dict) bytes; archive folder `name` (torch uses the file's stem; any name loads). */
export function encodeTorchStateDict(state: Record<string, { shape: number[]; data: Float32Array }>, name = 'archive'): Uint8Array {
  const p = new Pickler().op(0x80, 2).emptyOrderedDict().op(0x28); // PROTO 2, OrderedDict(), MARK
  const files: Record<string, Uint8Array> = {};
  Object.entries(state).forEach(([key, t], k) => {
    const id = String(k);
    p.str(key).global('torch._utils', '_rebuild_tensor_v2').tuple([
      () => p.tuple([() => p.str('storage'), () => p.global('torch', 'FloatStorage'), () => p.str(id), () => p.str('cpu'), () => p.int(t.data.length)]).op(0x51), // BINPERSID
      () => p.int(0),
      () => p.tuple(t.shape.map((d) => () => p.int(d))),
      () => p.tuple(contiguousStrides(t.shape).map((d) => () => p.int(d))),
      () => p.op(0x89), // NEWFALSE: requires_grad
      () => p.emptyOrderedDict(), // backward hooks
    ]).op(0x52); // REDUCE
    const raw = new Uint8Array(t.data.length * 4);
    const dv = new DataView(raw.buffer);
    t.data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    files[`${name}/data/${id}`] = raw;
  });
  p.op(0x75, 0x2e); // SETITEMS, STOP
  return zipSync({
    [`${name}/data.pkl`]: p.bytes(),
    [`${name}/byteorder`]: new TextEncoder().encode('little'),
    ...files,
    [`${name}/version`]: new TextEncoder().encode('3\n'),
  }, { level: 0 }); // torch reads stored entries
}
