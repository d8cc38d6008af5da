// VGG19's convolutional trunk as the two standard releases store it, converted to one layout: conv{b}_{k}.weight
// [Cout, Cin, 3, 3] and conv{b}_{k}.bias [Cout]. The importer checks structure, not exact widths, so reduced-width
// test files with the real layer names import too; the official files are recognised by their published checksums.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { decodeSafetensors, type NamedArray } from '../io/safetensors.js';
import { isHdf5, readKerasLayers } from './keras.js';
import { readTorchStateDict } from './torch.js';
import { isZip } from './zip.js';

export type WeightSource = 'keras' | 'torchvision';
export const WEIGHT_SOURCES: readonly WeightSource[] = ['keras', 'torchvision'];

export const VGG_BLOCKS = [2, 2, 4, 4, 4];
export const VGG_FULL_WIDTHS = [64, 128, 256, 512, 512];

export interface VggConv {
  /** conv{block}_{k}: the parameter prefix in our files. */
  name: string;
  /** relu{block}_{k}: the feature map after this conv's ReLU. */
  relu: string;
  block: number;
  /** Keras layer name (block{b}_conv{k}). */
  keras: string;
  /** torchvision module path (features.{i}). */
  torchvision: string;
}

export const VGG_CONVS: readonly VggConv[] = (() => {
  const convs: VggConv[] = [];
  let index = 0; // position in torchvision's features Sequential: conv, ReLU, …, MaxPool after each block
  VGG_BLOCKS.forEach((n, b) => {
    for (let k = 1; k <= n; k++, index += 2) {
      convs.push({ name: `conv${b + 1}_${k}`, relu: `relu${b + 1}_${k}`, block: b + 1, keras: `block${b + 1}_conv${k}`, torchvision: `features.${index}` });
    }
    index++;
  });
  return convs;
})();

/** Parameters keyed conv{b}_{k}.weight / .bias. */
export type VggWeights = Record<string, NamedArray>;

/** y_c = scale_c · x[src_c] + shift_c maps an RGB image in [-1, 1] to what the source's network was trained on. */
export interface Preprocessing {
  description: string;
  src: [number, number, number];
  scale: [number, number, number];
  shift: [number, number, number];
}

const KERAS_MEAN_BGR = [103.939, 116.779, 123.68];
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const three = (f: (c: number) => number): [number, number, number] => [f(0), f(1), f(2)];

export const PREPROCESSING: Record<WeightSource, Preprocessing> = {
  // keras.applications.vgg19.preprocess_input ('caffe'): RGB→BGR, 0–255, minus the BGR ImageNet mean.
  keras: {
    description: 'keras/caffe: RGB→BGR, [-1,1]→[0,255], minus BGR mean (103.939, 116.779, 123.68); gray repeated to 3 channels',
    src: [2, 1, 0],
    scale: [127.5, 127.5, 127.5],
    shift: three((c) => 127.5 - KERAS_MEAN_BGR[c]),
  },
  // torchvision: RGB in [0, 1], then (x − mean) / std.
  torchvision: {
    description: 'torchvision: RGB, [-1,1]→[0,1], minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225); gray repeated to 3 channels',
    src: [0, 1, 2],
    scale: three((c) => 0.5 / IMAGENET_STD[c]),
    shift: three((c) => (0.5 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]),
  },
};

export interface OfficialRelease {
  url: string;
  file: string;
  algorithm: 'md5' | 'sha256';
  /** The published digest, or its published prefix (torchvision puts the first 8 hex of the sha256 in the name). */
  digest: string;
  megabytes: number;
}

export const OFFICIAL_VGG19: Record<WeightSource, OfficialRelease> = {
  // md5 as in keras/applications/vgg19.py (get_file(..., file_hash=...)).
  keras: {
    url: 'https://storage.googleapis.com/tensorflow/keras-applications/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
    file: 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
    algorithm: 'md5',
    digest: '253f8cb515780f3b799900260a226db6',
    megabytes: 80,
  },
  // torch.hub checks the sha256 prefix carried in the file name, as done here.
  torchvision: {
    url: 'https://download.pytorch.org/models/vgg19-dcbb9e9d.pth',
    file: 'vgg19-dcbb9e9d.pth',
    algorithm: 'sha256',
    digest: 'dcbb9e9d',
    megabytes: 548,
  },
};

export const matchesDigest = (release: Pick<OfficialRelease, 'digest'>, hex: string): boolean => hex.toLowerCase().startsWith(release.digest);

/**
 * Checks that the 16 convolutions chain into a VGG19 trunk: all present, 3×3 kernels, 3 input channels, each
 * layer's inputs equal to the previous layer's outputs, one bias per output, finite values. `label` names a
 * layer as the file does. Returns the output width of each conv.
 */
export function validateVggWeights(w: VggWeights, what: string, label: (c: VggConv) => string): number[] {
  const span = `${label(VGG_CONVS[0])}, ${label(VGG_CONVS[1])} … ${label(VGG_CONVS.at(-1)!)}`;
  const absent = VGG_CONVS.filter((c) => !(`${c.name}.weight` in w && `${c.name}.bias` in w)).map(label);
  if (absent.length === VGG_CONVS.length) throw new Error(`${what}: no VGG19 layers found (expected the 16 convolution layers ${span})`);
  if (absent.length) throw new Error(`${what}: missing layers ${absent.join(', ')} (VGG19 has 16 convolution layers, ${span})`);
  const widths: number[] = [];
  let prev: { label: string; out: number } | null = null;
  for (const c of VGG_CONVS) {
    const { shape, data } = w[`${c.name}.weight`];
    const bias = w[`${c.name}.bias`];
    const l = label(c);
    if (shape.length !== 4) throw new Error(`${what}: ${l} kernel has ${shape.length} dimensions (shape [${shape}]); a convolution kernel has 4`);
    const [out, inp, kh, kw] = shape;
    if (kh !== 3 || kw !== 3) throw new Error(`${what}: ${l} kernel is ${kh}×${kw}; VGG19 uses 3×3 kernels`);
    if (!prev && inp !== 3) throw new Error(`${what}: ${l} takes ${inp} input channels; VGG19's first layer takes 3 (RGB)`);
    if (prev && inp !== prev.out) throw new Error(`${what}: ${l} takes ${inp} input channels but ${prev.label} gives ${prev.out}`);
    if (bias.shape.length !== 1 || bias.shape[0] !== out) throw new Error(`${what}: ${l} bias has shape [${bias.shape}] for ${out} output channels`);
    if (!data.every(Number.isFinite) || !bias.data.every(Number.isFinite)) throw new Error(`${what}: ${l} holds NaN or infinite values (corrupt file?)`);
    widths.push(out);
    prev = { label: l, out };
  }
  return widths;
}

/** [KH, KW, Cin, Cout] (TensorFlow) → [Cout, Cin, KH, KW]; both are cross-correlations, so no flip. */
function fromTfKernel(k: NamedArray): NamedArray {
  const [kh, kw, cin, cout] = k.shape;
  const data = new Float32Array(k.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) data[((o * cin + i) * kh + y) * kw + x] = k.data[((y * kw + x) * cin + i) * cout + o];
  return { shape: [cout, cin, kh, kw], data };
}

async function fromKeras(path: string): Promise<{ weights: VggWeights; widths: number[] }> {
  const layers = await readKerasLayers(path, VGG_CONVS.map((c) => c.keras));
  const w: VggWeights = {};
  for (const c of VGG_CONVS) {
    const datasets = layers.get(c.keras);
    if (!datasets) continue;
    // Keras names its datasets by version (block1_conv1_W_1:0, block1_conv1/kernel:0); the ranks are unambiguous.
    const of = (rank: number, what: string): NamedArray => {
      const found = [...datasets.values()].filter((d) => d.shape.length === rank);
      if (found.length !== 1) {
        const have = [...datasets].map(([n, d]) => `${n} [${d.shape}]`).join(', ') || 'no datasets';
        throw new Error(`${path}: ${c.keras} should hold one ${what} (${rank}-D dataset), found ${have}`);
      }
      return found[0];
    };
    w[`${c.name}.weight`] = fromTfKernel(of(4, 'kernel'));
    w[`${c.name}.bias`] = of(1, 'bias');
  }
  return { weights: w, widths: validateVggWeights(w, path, (c) => c.keras) };
}

function fromTorchvision(tensors: Map<string, { shape: number[]; read(): Float32Array }>, what: string): { weights: VggWeights; widths: number[] } {
  const w: VggWeights = {};
  for (const c of VGG_CONVS) {
    for (const kind of ['weight', 'bias']) {
      const t = tensors.get(`${c.torchvision}.${kind}`);
      if (t) w[`${c.name}.${kind}`] = { shape: t.shape, data: t.read() };
    }
  }
  return { weights: w, widths: validateVggWeights(w, what, (c) => c.torchvision) };
}

export interface ImportedVgg {
  source: WeightSource;
  format: 'keras-hdf5' | 'torch' | 'safetensors';
  weights: VggWeights;
  widths: number[];
  /** For one of our cache files: its metadata (origin and checksum of the file it was made from). */
  cacheMetadata?: Record<string, string>;
}

/** Our own cache files carry this in their metadata. */
export const CACHE_FORMAT = 'comi-vgg19';

/** Reads VGG19 weights from a Keras .h5, a torchvision .pth, or a .safetensors (torchvision names or our cache). */
export async function readVggWeightFile(path: string): Promise<ImportedVgg> {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  if (statSync(path).isDirectory()) throw new Error(`${path} is a folder; give the weight file itself`);
  if (isHdf5(path)) return { source: 'keras', format: 'keras-hdf5', ...(await fromKeras(path)) };
  const bytes = readFileSync(path);
  if (bytes.length >= 9 && bytes[8] === 0x7b /* '{' after the u64 header length */ && bytes.readBigUInt64LE(0) < BigInt(bytes.length)) {
    const { tensors, metadata } = decodeSafetensors(bytes, path);
    if (metadata.format === CACHE_FORMAT) {
      const source = metadata.source as WeightSource;
      if (!WEIGHT_SOURCES.includes(source)) throw new Error(`${path}: unknown VGG19 source '${metadata.source}' in its metadata`);
      return { source, format: 'safetensors', weights: tensors, widths: validateVggWeights(tensors, path, (c) => c.name), cacheMetadata: metadata };
    }
    const named = new Map(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, read: () => t.data }]));
    return { source: 'torchvision', format: 'safetensors', ...fromTorchvision(named, path) };
  }
  // torch.save: a zip (PyTorch ≥ 1.6) or a pickle stream starting with the PROTO opcode (older releases).
  if (isZip(bytes) || bytes[0] === 0x80) return { source: 'torchvision', format: 'torch', ...fromTorchvision(readTorchStateDict(bytes, path), path) };
  throw new Error(`${path}: not a VGG19 weight file (expected Keras HDF5 .h5, PyTorch .pth or .safetensors)`);
}
