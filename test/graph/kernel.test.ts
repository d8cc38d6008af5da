// Kernel descriptions (src/graph/kernel.ts): the uniform layout follows WGSL's rules, parameters are packed by
// name, and the generated declarations and entry point match the description.
import { describe, it, expect } from 'vitest';
import { defineKernel, packParams, kernelSource } from '../../src/graph/kernel.js';

const AFFINE = defineKernel({
  shader: 'channel_affine',
  params: { n: 'u32', cin: 'u32', cout: 'u32', plane: 'u32', src: 'vec4u', scale: 'vec4f', shift: 'vec4f' },
  bindings: { x: 'read', y: 'read_write' },
  entry: 'elementwise',
});

describe('kernel descriptions', () => {
  it('lays parameters out as WGSL does (vec4 at 16-byte offsets) and packs them by name', () => {
    const k = defineKernel({ shader: 't', params: { a: 'u32', b: 'f32', v: 'vec4f', c: 'i32' }, bindings: {}, entry: ['gid'] });
    expect(k.layout).toEqual({ offsets: { a: 0, b: 4, v: 16, c: 32 }, size: 48, fields: [['a', 'u32', 0], ['b', 'f32', 1], ['v', 'vec4f', 4], ['c', 'i32', 8]] });
    const buf = packParams(k, { a: 7, b: 0.5, v: [1, 2, 3, 4], c: -1 });
    expect(Array.from(new Uint32Array(buf, 0, 1))).toEqual([7]);
    expect(Array.from(new Float32Array(buf, 4, 1))).toEqual([0.5]);
    expect(Array.from(new Float32Array(buf, 16, 4))).toEqual([1, 2, 3, 4]);
    expect(new Int32Array(buf, 32, 1)[0]).toBe(-1);
  });

  it('rejects a missing or mis-shaped parameter', () => {
    expect(() => packParams(AFFINE, { n: 1, cin: 1, cout: 1, plane: 1, src: [0], scale: [1, 1, 1, 1], shift: [0, 0, 0, 0] }))
      .toThrow(/channel_affine: parameter src \(vec4u\) needs 4 number\(s\)/);
    expect(() => packParams(AFFINE, { n: 1 } as never)).toThrow(/parameter cin/);
  });

  it('generates the Params struct, the bindings and the elementwise index preamble', () => {
    const src = kernelSource(AFFINE, {});
    expect(src).toContain('struct Params { n: u32, cin: u32, cout: u32, plane: u32, src: vec4u, scale: vec4f, shift: vec4f }');
    expect(src).toContain('@group(0) @binding(1) var<storage, read> x: array<f32>;');
    expect(src).toContain('@group(0) @binding(2) var<storage, read_write> y: array<f32>;');
    expect(src).toContain('let i = gid.x + gid.y * nwg.x * 256u;');
    expect(src).toContain('fn kernel(i: u32)');
  });

  it('declares constants and needs a value for each', () => {
    const k = defineKernel({ shader: 'pad', params: { n: 'u32' }, bindings: {}, consts: { REFLECT: 'bool' }, entry: 'elementwise' });
    expect(kernelSource(k, { REFLECT: true })).toContain('const REFLECT = true;');
    expect(() => kernelSource(k, {})).toThrow(/pad: no value for constant REFLECT/);
  });

  it('declares storage type constants as aliases, enabling f16 first where one is f16', () => {
    const k = defineKernel({ shader: 'map_window', params: { n: 'u32' }, bindings: { y: { access: 'read_write', type: 'array<DST>' } }, consts: { DST: 'float' }, entry: 'elementwise' });
    const f16 = kernelSource(k, { DST: 'f16' });
    expect(f16.startsWith('enable f16;\nalias DST = f16;')).toBe(true);
    expect(f16).toContain('var<storage, read_write> y: array<DST>;');
    const f32 = kernelSource(k, { DST: 'f32' });
    expect(f32).toContain('alias DST = f32;');
    expect(f32).not.toContain('enable f16');
    expect(() => kernelSource(k, { DST: 'f64' })).toThrow(/DST must be f32 or f16/);
  });
});

describe('every kernel description matches its shader file', async () => {
  await import('../../src/index.js'); // defines every kernel of the engine
  const { kernels, shaderText } = await import('../../src/graph/kernel.js');
  it('has found the kernels', () => expect(kernels.length).toBeGreaterThan(30));
  for (const k of kernels) {
    it(k.shader, () => {
      const text = shaderText(k).replace(/\/\/.*$/gm, '');
      const used = new Set([...text.matchAll(/\bp\.(\w+)/g)].map((m) => m[1]));
      if (k.entry === 'elementwise') used.add('n'); // read by the generated index guard
      expect([...used].filter((name) => !(name in k.params)), 'p.<name> read but not a parameter').toEqual([]);
      // Code constants (pointwise expressions) may read parameters and bindings the file itself does not name.
      if (Object.values(k.consts).includes('code')) return;
      expect(Object.keys(k.params).filter((name) => !used.has(name)), 'parameters the shader never reads').toEqual([]);
      const unusedBindings = Object.keys(k.bindings).filter((name) => !new RegExp(`\\b${name}\\[`).test(text));
      expect(unusedBindings, 'bindings the shader never indexes').toEqual([]);
      const consts = Object.keys(k.consts).filter((name) => !(name === 'WG' && k.workgroup === 'WG')); // WG: the generated entry's
      // A storage type constant may be named only by binding types (array<SRC>).
      const types = Object.values(k.bindings).map((b) => (typeof b === 'string' ? '' : b.type ?? '')).join(' ');
      for (const name of consts) expect(`${text} ${types}`, `constant ${name}`).toMatch(new RegExp(`\\b${name}\\b`));
    });
  }
});
