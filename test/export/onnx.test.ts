// The exported ONNX graph, run by onnxruntime (CPU), must equal our engine's forward: max |Δ| ≤ 1e-4 on outputs in
// [−1, 1] (float32 on both sides; different summation orders make ~1e-6 differences, a wrong layer makes ~1e-1).
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { useGpu } from '../helpers/gpu.js';
import { ResnetGenerator, type GeneratorOptions } from '../../src/model/generator.js';
import { Tensor } from '../../src/graph/tensor.js';
import { noGrad } from '../../src/autograd/tape.js';
import { generatorToOnnx, ONNX_OPSET } from '../../src/export/onnx.js';
import { readImage } from '../../src/data/image.js';
import { fitNormalization, normalize } from '../../src/data/normalize.js';
import { hashNormal } from '../../src/graph/random.js';
import { deconvolveNormalized, type RlInput } from '../../src/model/richardson_lucy.js';
import { binnedSize, binPlanes, unbinPlanes } from '../../src/data/bin.js';

useGpu();
const TOL = 1e-4;
const BBBC = '../shared/data/bbbc006-sample/z00_defocused';

const VARIANTS: [string, Partial<GeneratorOptions>][] = [
  ['paper (transpose upsampling)', { upsampling: 'transpose', globalResidual: false }],
  ['COMI code: resize upsampling', { upsampling: 'resize', globalResidual: false }],
  ['COMI code: resize upsampling + global residual', { upsampling: 'resize', globalResidual: true }],
];

/** The engine's correction of a batch; with `rl`, each image deconvolved first as correction does (correct/core.ts). */
async function engineOutput(g: ResnetGenerator, x: Float32Array, shape: number[], rl?: RlInput): Promise<Float32Array> {
  const [n, c, h, w] = shape;
  let staged = x;
  if (rl) {
    staged = new Float32Array(x.length);
    for (let i = 0; i < n; i++) staged.set(await deconvolveNormalized(x.subarray(i * c * h * w, (i + 1) * c * h * w), c, w, h, rl), i * c * h * w);
  }
  return noGrad(() => g.forward(Tensor.fromArray(staged, shape))).data();
}

async function onnxOutput(g: ResnetGenerator, x: Float32Array, shape: number[], rl?: RlInput, bin?: number): Promise<Float32Array> {
  const bytes = generatorToOnnx(await g.stateDict(), g.opts, { name: 'test', producerVersion: '0', ...(rl ? { rlInput: rl } : {}), ...(bin ? { bin } : {}) });
  const session = await ort.InferenceSession.create(bytes);
  const { output } = await session.run({ input: new ort.Tensor('float32', x, shape) });
  expect(output.dims).toEqual(shape);
  return output.data as Float32Array;
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Max |ONNX − engine|. */
async function maxDiff(g: ResnetGenerator, x: Float32Array, shape: number[], rl?: RlInput): Promise<number> {
  return maxAbs(await engineOutput(g, x, shape, rl), await onnxOutput(g, x, shape, rl));
}

describe('ONNX export', () => {
  for (const [label, variant] of VARIANTS) {
    it(`${label}: onnxruntime equals the engine on random input (two sizes, dynamic H and W)`, async () => {
      const g = new ResnetGenerator({ inChannels: 3, outChannels: 3, ngf: 4, blocks: 2, seed: 7, ...variant });
      for (const shape of [[1, 3, 32, 48], [2, 3, 20, 28]]) {
        const n = shape.reduce((a, b) => a + b);
        const x = Float32Array.from(hashNormal(shape.reduce((a, b) => a * b), 11 + n, 0.5), (v) => Math.tanh(v));
        expect(await maxDiff(g, x, shape)).toBeLessThanOrEqual(TOL);
      }
      g.dispose();
    });
  }

  it.skipIf(!existsSync(BBBC))('equals the engine on a real 696×520 BBBC006 image, every variant and an RL input stage', async () => {
    const file = join(BBBC, readdirSync(BBBC).filter((f) => f.endsWith('.tif')).sort()[0]);
    const img = await readImage(file);
    const x = normalize(img, fitNormalization(img, 'percentile'));
    for (const [, variant] of VARIANTS) {
      const g = new ResnetGenerator({ inChannels: 1, outChannels: 1, ngf: 4, blocks: 1, seed: 3, ...variant });
      expect(await maxDiff(g, x, [1, 1, img.height, img.width])).toBeLessThanOrEqual(TOL);
      g.dispose();
    }
    const staged = new ResnetGenerator({ inChannels: 1, outChannels: 1, ngf: 4, blocks: 1, seed: 3, upsampling: 'resize', globalResidual: true });
    expect(await maxDiff(staged, x, [1, 1, img.height, img.width], { sigma: 2.51, iterations: 30 })).toBeLessThanOrEqual(TOL);
    staged.dispose();
  });
  if (!existsSync(BBBC)) it.skip(`real-image check skipped: ${BBBC} is absent`, () => {});

  // The stage's 5–30 multiplicative updates compound float32 rounding; the bound stays the generator's 1e-4.
  for (const rl of [{ sigma: 1.5, iterations: 5 }, { sigma: 2.51, iterations: 30 }]) {
    it(`a Richardson–Lucy input stage (σ ${rl.sigma} px, ${rl.iterations} iterations) runs inside the graph: onnxruntime equals deconvolution + forward`, async () => {
      for (const [channels, shape] of [[1, [1, 1, 32, 48]], [3, [2, 3, 24, 28]]] as const) {
        const g = new ResnetGenerator({ inChannels: channels, outChannels: channels, ngf: 4, blocks: 2, seed: 5, upsampling: 'resize', globalResidual: true });
        const n = shape.reduce((a, b) => a * b);
        const x = Float32Array.from(hashNormal(n, 21 + channels, 0.6), (v) => Math.tanh(v));
        const withStage = await onnxOutput(g, x, [...shape], rl);
        expect(maxAbs(await engineOutput(g, x, [...shape], rl), withStage)).toBeLessThanOrEqual(TOL);
        // Not vacuous: the engine without the stage is far from the staged graph.
        expect(maxAbs(await engineOutput(g, x, [...shape]), withStage)).toBeGreaterThan(1e-2);
        g.dispose();
      }
    });
  }

  // Sizes that leave partial edge blocks (47 = 23·2 + 1, 47 = 15·3 + 2): the graph's pooling and resize must
  // average and place them as src/data/bin.ts does.
  for (const [n, shape, rl] of [[2, [1, 1, 47, 63], undefined], [3, [2, 3, 47, 36], { sigma: 1.5, iterations: 5 }]] as const) {
    it(`a run binned ${n}×${n}${rl ? ' with an input stage' : ''} bins and upsamples inside the graph: onnxruntime equals binPlanes → ${rl ? 'stage → ' : ''}forward → unbinPlanes`, async () => {
      const [batch, c, h, w] = shape;
      const g = new ResnetGenerator({ inChannels: c, outChannels: c, ngf: 4, blocks: 2, seed: 9, upsampling: 'resize', globalResidual: true });
      const x = Float32Array.from(hashNormal(batch * c * h * w, 31 + n, 0.6), (v) => Math.tanh(v));
      const b = binnedSize(w, h, n);
      const engine = new Float32Array(x.length);
      const blocky = new Float32Array(x.length); // the binned output upsampled by nearest neighbour instead
      for (let i = 0; i < batch; i++) {
        const one = binPlanes(x.subarray(i * c * h * w, (i + 1) * c * h * w), c, w, h, n);
        const y = await engineOutput(g, one, [1, c, b.height, b.width], rl);
        engine.set(unbinPlanes(y, c, w, h, n), i * c * h * w);
        for (let ch = 0; ch < c; ch++) {
          for (let yy = 0; yy < h; yy++) {
            for (let xx = 0; xx < w; xx++) blocky[((i * c + ch) * h + yy) * w + xx] = y[(ch * b.height + Math.floor(yy / n)) * b.width + Math.floor(xx / n)];
          }
        }
      }
      const graph = await onnxOutput(g, x, [...shape], rl, n);
      expect(maxAbs(engine, graph)).toBeLessThanOrEqual(TOL);
      // Not vacuous: another upsampling of the same binned output is far from it.
      expect(maxAbs(blocky, graph)).toBeGreaterThan(1e-2);
      g.dispose();
    });
  }

  it('declares opset 17, dynamic height/width and PyTorch parameter names', async () => {
    const g = new ResnetGenerator({ inChannels: 1, outChannels: 1, ngf: 4, blocks: 1, upsampling: 'resize', seed: 1 });
    const m = onnxProto.onnx.ModelProto.decode(generatorToOnnx(await g.stateDict(), g.opts, { name: 'x', producerVersion: '0', metadata: { a: 'b' } }));
    expect(Number(m.opsetImport[0].version)).toBe(ONNX_OPSET);
    expect(m.graph!.input[0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 1, 'height', 'width']);
    expect(new Set(m.graph!.node.map((n) => n.opType))).toEqual(new Set(['Pad', 'Conv', 'InstanceNormalization', 'Relu', 'Add', 'Resize', 'Tanh']));
    expect(m.graph!.initializer.map((t) => t.name)).toContain('model.4.weight');
    expect(m.metadataProps).toEqual([{ key: 'a', value: 'b' }]);
    g.dispose();
  });

  it('refuses weights that do not fit the architecture', async () => {
    const g = new ResnetGenerator({ inChannels: 1, outChannels: 1, ngf: 4, blocks: 1, seed: 1 });
    const state = await g.stateDict();
    expect(() => generatorToOnnx(state, { ...g.opts, blocks: 2 }, { name: 'x', producerVersion: '0' })).toThrow("the generator weights have no 'model.11.conv_block.1.weight'");
    expect(() => generatorToOnnx({ ...state, 'extra.weight': state['model.1.bias'] }, g.opts, { name: 'x', producerVersion: '0' })).toThrow('tensors the architecture does not use');
    g.dispose();
  });
});
