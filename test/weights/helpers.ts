// Shared by the weight tests: the fixture files, their weights regenerated from seeds (twin of fixture_weights in
// scripts/fixtures/vgg.py), and a Keras-layout HDF5 writer for broken variants.
import { join } from 'node:path';
import { expect } from 'vitest';
import { hashNormal, hashUniform } from '../../src/graph/random.js';
import { nameSeed } from '../../src/model/module.js';
import type { NamedArray } from '../../src/io/safetensors.js';
import { VGG_CONVS, VGG_FULL_WIDTHS, type VggWeights } from '../../src/weights/vgg19.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'vgg');
export const fixture = (name: string): string => join(FIXTURES, name);
/** Seeds and width divisors of the fixture files (scripts/fixtures/vgg.py). */
export const W16 = { div: 16, seed: 401 };
export const W32 = { div: 32, seed: 402 };

export function fixtureWeights({ div, seed }: { div: number; seed: number }): VggWeights {
  const w: VggWeights = {};
  let cin = 3;
  for (const c of VGG_CONVS) {
    const cout = VGG_FULL_WIDTHS[c.block - 1] / div;
    w[`${c.name}.weight`] = { shape: [cout, cin, 3, 3], data: hashNormal(cout * cin * 9, nameSeed(seed, `${c.name}.weight`), Math.sqrt(2 / (9 * cin))) };
    w[`${c.name}.bias`] = { shape: [cout], data: hashUniform(cout, nameSeed(seed, `${c.name}.bias`), 0.1) };
    cin = cout;
  }
  return w;
}

/** Python and V8 may round log/cos differently in the last bit before the float32 cast: allow 1e-6 of the range. */
export function expectSameWeights(ours: VggWeights, ref: VggWeights): void {
  for (const [k, r] of Object.entries(ref)) {
    const o = ours[k];
    expect(o, k).toBeDefined();
    expect(o.shape, k).toEqual(r.shape);
    let max = 0;
    let diff = 0;
    for (let i = 0; i < r.data.length; i++) {
      max = Math.max(max, Math.abs(r.data[i]));
      diff = Math.max(diff, Math.abs(o.data[i] - r.data[i]));
    }
    expect(diff, k).toBeLessThanOrEqual(1e-6 * max);
  }
}

/** [Cout, Cin, KH, KW] → TensorFlow's [KH, KW, Cin, Cout]. */
export function toTfKernel(k: NamedArray): NamedArray {
  const [cout, cin, kh, kw] = k.shape;
  const data = new Float32Array(k.data.length);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) data[((y * kw + x) * cin + i) * cout + o] = k.data[((o * cin + i) * kh + y) * kw + x];
  return { shape: [kh, kw, cin, cout], data };
}

/** Writes Keras-1-layout HDF5 (group blockB_convK, datasets blockB_convK_W_1:0 and _b_1:0) with h5wasm; `layers`
 * maps Keras layer names to their (already TensorFlow-layout) kernel and bias. */
export async function writeKerasH5(path: string, layers: Record<string, { kernel: NamedArray; bias: NamedArray }>): Promise<void> {
  const { default: h5wasm, ready } = await import('h5wasm/node');
  await ready;
  const f = new h5wasm.File(path, 'w');
  try {
    for (const [name, { kernel, bias }] of Object.entries(layers)) {
      const g = f.create_group(name);
      g.create_dataset({ name: `${name}_W_1:0`, data: kernel.data, shape: kernel.shape, dtype: '<f' });
      g.create_dataset({ name: `${name}_b_1:0`, data: bias.data, shape: bias.shape, dtype: '<f' });
    }
  } finally {
    f.close();
  }
}

/** The fixture weights as Keras layers, for writeKerasH5 after a change. */
export function kerasLayers(w: VggWeights): Record<string, { kernel: NamedArray; bias: NamedArray }> {
  return Object.fromEntries(VGG_CONVS.map((c) => [c.keras, { kernel: toTfKernel(w[`${c.name}.weight`]), bias: w[`${c.name}.bias`] }]));
}
