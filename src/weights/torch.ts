// Reads the tensors of a torch.save state dict without Python: the zip format (PyTorch ≥ 1.6: data.pkl + one entry
// per storage) and the older stream of the released torchvision weights (pickles followed by raw storages, tensors
// pickled either by _rebuild_tensor_v2 or, up to torch 0.3, as torch.FloatTensor() plus BUILD state).
import { unpickle, PyGlobal, type UnpickleHooks } from './pickle.js';
import { ZipArchive, isZip } from './zip.js';

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const ELEMENT_BYTES: Record<string, number> = {
  FloatStorage: 4, DoubleStorage: 8, HalfStorage: 2, BFloat16Storage: 2, LongStorage: 8, IntStorage: 4,
  ShortStorage: 2, CharStorage: 1, ByteStorage: 1, BoolStorage: 1,
};
const READERS: Record<string, (v: DataView, at: number) => number> = {
  FloatStorage: (v, at) => v.getFloat32(at, true),
  DoubleStorage: (v, at) => v.getFloat64(at, true),
};

/** One tensor of the state dict; its values are decoded only when read (the classifier of a VGG is 400 MB). */
export interface TorchTensor {
  shape: number[];
  /** The storage class, e.g. FloatStorage. */
  storageType: string;
  read(): Float32Array;
}

interface StorageRef {
  key: string;
  type: string;
  /** Element offset into the root storage (old storage views). */
  base: number;
}

class TensorRef {
  constructor(public storage: StorageRef | null, public offset = 0, public shape: number[] = [], public stride: number[] = []) {}
}

/** torch ≤ 0.3 pickled a tensor as an empty torch.FloatTensor() plus BUILD (storage, offset, size, stride). */
const LEGACY_TENSOR = /^torch\.\w+Tensor$/;

function hooks(what: string, onStorage: (pid: unknown[]) => StorageRef): UnpickleHooks {
  const bad = (msg: string): never => {
    throw new Error(`${what}: ${msg}`);
  };
  const ints = (v: unknown, name: string): number[] =>
    Array.isArray(v) && v.every((d) => Number.isInteger(d)) ? (v as number[]) : bad(`tensor ${name} is not a list of integers`);
  const tensor = (args: unknown[]): TensorRef => {
    const [storage, offset, shape, stride] = args;
    if (!storage || typeof storage !== 'object' || !('key' in storage)) bad('a tensor without storage');
    if (!Number.isInteger(offset)) bad('a tensor with a bad storage offset');
    return new TensorRef(storage as StorageRef, offset as number, ints(shape, 'size'), ints(stride, 'stride'));
  };
  return {
    build(obj: unknown, state: unknown): void {
      if (obj instanceof TensorRef && Array.isArray(state)) Object.assign(obj, tensor(state));
    },
    call(fn: PyGlobal, args: unknown[]): unknown {
      if (LEGACY_TENSOR.test(fn.toString()) && args.length === 0) return new TensorRef(null);
      switch (fn.toString()) {
        case 'collections.OrderedDict': {
          // Python 3 pickles items with SETITEMS afterwards; Python 2 passes them as a list of pairs.
          const m = new Map<unknown, unknown>();
          if (Array.isArray(args[0])) for (const pair of args[0] as unknown[][]) m.set(pair[0], pair[1]);
          return m;
        }
        case 'torch._utils._rebuild_tensor':
        case 'torch._utils._rebuild_tensor_v2':
          return tensor(args);
        case 'torch._utils._rebuild_parameter':
          return args[0];
        default:
          return bad(`holds ${fn} objects; only state dicts of tensors can be read (save model.state_dict())`);
      }
    },
    persistentLoad(pid: unknown): unknown {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PyGlobal)) bad('unsupported persistent object in the pickle');
      return onStorage(pid as unknown[]);
    },
  };
}

function materialise(name: string, t: TensorRef & { storage: StorageRef }, bytes: Uint8Array, what: string): Float32Array {
  const read = READERS[t.storage.type];
  if (!read) throw new Error(`${what}: tensor ${name} is stored as ${t.storage.type}; only float32 and float64 weights are supported`);
  const elem = ELEMENT_BYTES[t.storage.type];
  const count = t.shape.reduce((a, b) => a * b, 1);
  const available = bytes.length / elem;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(count);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let e = t.storage.base + t.offset;
    for (let d = 0; d < index.length; d++) e += index[d] * t.stride[d];
    if (e < 0 || e >= available) throw new Error(`${what}: tensor ${name} reaches past its storage (truncated or corrupt file)`);
    data[i] = read(view, e * elem);
    for (let d = index.length - 1; d >= 0 && ++index[d] === t.shape[d]; d--) index[d] = 0;
  }
  return data;
}

/** The tensors of the state dict (a top-level 'state_dict' entry is followed); other values are skipped. */
function collect(root: unknown, storageBytes: (s: StorageRef) => Uint8Array, what: string): Map<string, TorchTensor> {
  let dict = root;
  if (dict instanceof Map && dict.get('state_dict') instanceof Map) dict = dict.get('state_dict');
  if (!(dict instanceof Map)) throw new Error(`${what}: the checkpoint is not a state dict`);
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of dict) {
    if (!(v instanceof TensorRef)) continue;
    const name = String(k);
    const { storage } = v;
    if (!storage) throw new Error(`${what}: tensor ${name} has no data (damaged checkpoint)`);
    out.set(name, { shape: [...v.shape], storageType: storage.type, read: () => materialise(name, { ...v, storage }, storageBytes(storage), what) });
  }
  return out;
}

function readZip(bytes: Uint8Array, what: string): Map<string, TorchTensor> {
  const zip = new ZipArchive(bytes, what);
  const pkl = zip.names().find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new Error(`${what}: a zip file but not a PyTorch checkpoint (no data.pkl)`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}byteorder`) && Buffer.from(zip.read(`${prefix}byteorder`)).toString() !== 'little') {
    throw new Error(`${what}: saved on a big-endian machine, which is not supported`);
  }
  const h = hooks(what, (pid) => ({ key: String(pid[2]), type: (pid[1] as PyGlobal).name, base: 0 }));
  const { value } = unpickle(zip.read(pkl), 0, h, what);
  return collect(value, (s) => zip.read(`${prefix}data/${s.key}`), what);
}

function readLegacy(bytes: Uint8Array, what: string): Map<string, TorchTensor> {
  const none: UnpickleHooks = {
    call: (fn) => {
      throw new Error(`${what}: unexpected ${fn} in the checkpoint header`);
    },
    persistentLoad: () => {
      throw new Error(`${what}: unexpected storage in the checkpoint header`);
    },
  };
  const magic = unpickle(bytes, 0, none, what);
  if (magic.value !== LEGACY_MAGIC) throw new Error(`${what}: not a PyTorch checkpoint`);
  const protocol = unpickle(bytes, magic.end, none, what);
  if (protocol.value !== LEGACY_PROTOCOL) throw new Error(`${what}: unsupported PyTorch checkpoint protocol ${String(protocol.value)}`);
  const sysInfo = unpickle(bytes, protocol.end, none, what);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new Error(`${what}: saved on a big-endian machine, which is not supported`);
  }
  const types = new Map<string, string>();
  const h = hooks(what, (pid) => {
    // ('storage', type, root_key, location, size, view_metadata): a view is (view_key, offset, size) into the root.
    const key = String(pid[2]);
    types.set(key, (pid[1] as PyGlobal).name);
    const viewMeta = pid[5];
    return { key, type: (pid[1] as PyGlobal).name, base: Array.isArray(viewMeta) ? Number(viewMeta[1]) : 0 };
  });
  const obj = unpickle(bytes, sysInfo.end, h, what);
  const keys = unpickle(bytes, obj.end, none, what);
  if (!Array.isArray(keys.value)) throw new Error(`${what}: damaged checkpoint (no storage list)`);
  // Each storage follows in the listed order: its element count (int64) and then its raw little-endian data.
  const storages = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = keys.end;
  for (const k of keys.value as unknown[]) {
    const key = String(k);
    const elem = ELEMENT_BYTES[types.get(key) ?? ''];
    if (!elem) throw new Error(`${what}: storage ${key} has unknown type ${types.get(key) ?? '(unreferenced)'}`);
    if (p + 8 > bytes.length) throw new Error(`${what}: truncated (storage ${key} missing)`);
    const n = Number(view.getBigInt64(p, true));
    const end = p + 8 + n * elem;
    if (n < 0 || end > bytes.length) throw new Error(`${what}: truncated (storage ${key} cut short)`);
    storages.set(key, bytes.subarray(p + 8, end));
    p = end;
  }
  return collect(obj.value, (s) => storages.get(s.key) ?? new Uint8Array(0), what);
}

/** The tensors of a torch.save state dict, by key. */
export function readTorchStateDict(bytes: Uint8Array, what: string): Map<string, TorchTensor> {
  if (isZip(bytes)) return readZip(bytes, what);
  if (bytes[0] === 0x80) return readLegacy(bytes, what);
  throw new Error(`${what}: not a PyTorch checkpoint`);
}
