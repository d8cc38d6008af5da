// Keras HDF5 weight files through h5wasm (the HDF5 C library compiled to WebAssembly): the datasets of each layer
// group, whichever Keras version wrote them (Keras 1: block1_conv1/block1_conv1_W_1:0; Keras 2:
// block1_conv1/block1_conv1/kernel:0; a whole-model save nests the layers under model_weights/).
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import type { NamedArray } from '../io/safetensors.js';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5's signature sits at byte 0 or after a user block of 512, 1024, 2048, … bytes. */
export function isHdf5(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      readSync(fd, buf, 0, 8, at);
      if (SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** HDF5 reports a stack of frames; the innermost one says what was wrong ("truncated file: eof = …"). */
function hdf5Reason(err: unknown): string | null {
  const msg = String((err as Error)?.message ?? err);
  if (!msg.startsWith('HDF5-DIAG')) return null;
  const frames = msg.split('\n').filter((l) => /^\s*#\d+:/.test(l));
  return frames.at(-1)?.replace(/^.*?\(\): /, '') ?? 'unknown HDF5 error';
}

/** The float datasets (any depth below the group) of each wanted layer group present in the file. */
export async function readKerasLayers(path: string, wanted: readonly string[]): Promise<Map<string, Map<string, NamedArray>>> {
  const { default: h5wasm, ready } = await import('h5wasm/node');
  // HDF5 errors become exceptions instead of a diagnostic stack printed straight to stderr.
  (await ready).activate_throwing_error_handler();
  let file: InstanceType<typeof h5wasm.File> | null = null;
  try {
    file = new h5wasm.File(path, 'r');
    const model = file.get('model_weights');
    const root = model instanceof h5wasm.Group ? model : file;
    const present = new Set(root.keys());
    const layers = new Map<string, Map<string, NamedArray>>();
    for (const name of wanted.filter((n) => present.has(n))) {
      const group = root.get(name);
      if (!(group instanceof h5wasm.Group)) continue;
      const datasets = new Map<string, NamedArray>();
      const walk = (g: InstanceType<typeof h5wasm.Group>, prefix: string) => {
        for (const key of g.keys()) {
          const e = g.get(key);
          if (e instanceof h5wasm.Group) walk(e, `${prefix}${key}/`);
          else if (e instanceof h5wasm.Dataset) {
            const value = e.value;
            if (!(value instanceof Float32Array || value instanceof Float64Array)) {
              throw new Error(`${path}: dataset ${name}/${prefix}${key} holds ${e.dtype} values, not floats`);
            }
            datasets.set(`${prefix}${key}`, { shape: e.shape ?? [], data: Float32Array.from(value) });
          }
        }
      };
      walk(group, '');
      layers.set(name, datasets);
    }
    return layers;
  } catch (err) {
    const reason = hdf5Reason(err);
    throw reason === null ? err : new Error(`${path}: unreadable HDF5 file (${reason})`);
  } finally {
    file?.close();
  }
}
