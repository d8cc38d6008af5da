// VGG19 features from imported weight files equal PyTorch's on the same weights and input (both preprocessing
// conventions, RGB and gray), and the content loss's gradient to the generator output equals PyTorch's.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputTensor, relError, type Fixture } from '../helpers/oracle.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { rt } from '../../src/graph/runtime.js';
import { hashUniform } from '../../src/graph/random.js';
import { backward } from '../../src/autograd/tape.js';
import { add } from '../../src/kernels/binary.js';
import { mseLoss } from '../../src/kernels/losses.js';
import { loadVggFeatures, type VggFeatures } from '../../src/model/vgg19.js';
import { importVggFile } from '../../src/weights/cache.js';
import { PREPROCESSING } from '../../src/weights/vgg19.js';
import { fixture } from '../weights/helpers.js';

useGpu();

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'comi-vgg-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The fixture's network: its weight file imported into a fresh cache (as `comi weights import` does), or random. */
async function vggFor(fx: Fixture): Promise<VggFeatures> {
  const p = fx.params;
  if (p.source === 'random') return loadVggFeatures({ source: 'random', seed: p.weightSeed, layers: p.layers });
  const cacheDir = mkdtempSync(join(root, 'cache-'));
  await importVggFile(fixture(p.file), { dir: cacheDir });
  return loadVggFeatures({ source: p.source, layers: p.layers, cacheDir });
}

describe('VGG19 features against PyTorch', () => {
  for (const name of fixtureCases('vgg').filter((n) => n.startsWith('features_'))) {
    it(name, async () => {
      const fx = loadFixture('vgg', name);
      const vgg = await vggFor(fx);
      const x = inputTensor(fx, 'x');
      const maps = vgg.features(x);
      expect(maps).toHaveLength(fx.params.layers.length);
      for (const [i, layer] of (fx.params.layers as string[]).entries()) {
        expect(maps[i].shape, layer).toEqual(fx.outputs[layer].shape);
        expect(maps[i].requiresGrad, layer).toBe(false);
        expect(relError(await maps[i].data(), fx.outputs[layer]), `${name} ${layer}`).toBeLessThanOrEqual(ORACLE_TOL);
      }
      expect(vgg.describe()).toEqual({
        source: fx.params.source,
        layers: fx.params.layers,
        preprocessing: PREPROCESSING[fx.params.source === 'keras' ? 'keras' : 'torchvision'].description,
      });
      [x, ...maps].forEach((t) => t.dispose());
      vgg.dispose();
    });
  }
});

describe('content loss gradient against PyTorch', () => {
  for (const name of fixtureCases('vgg').filter((n) => n.startsWith('content_'))) {
    it(name, async () => {
      const fx = loadFixture('vgg', name);
      const vgg = await vggFor(fx);
      const fake = inputTensor(fx, 'fake', true);
      const real = inputTensor(fx, 'real');
      const loss = scope(() => {
        const target = vgg.features(real);
        const ours = vgg.features(fake);
        const terms = ours.map((f, i) => mseLoss(f, target[i]));
        const total = terms.slice(1).reduce((a, t) => add(a, t), terms[0]);
        backward(total);
        return total;
      });
      expect(relError(await loss.data(), fx.outputs.loss)).toBeLessThanOrEqual(ORACLE_TOL);
      expect(relError(await fake.grad!.data(), fx.outputs.dfake)).toBeLessThanOrEqual(ORACLE_TOL);
      // Frozen: the backward pass reached the image but no VGG weight.
      const params = (vgg as unknown as { net: { parameters(): Tensor[] } }).net.parameters();
      expect(params.every((t) => !t.requiresGrad && t.grad === null)).toBe(true);
      [loss, fake, real].forEach((t) => t.dispose());
      fake.grad!.dispose();
      vgg.dispose();
    });
  }
});

describe('VGG19 feature extractor', () => {
  it('runs only the layers up to the deepest requested one', async () => {
    const shallow = await loadVggFeatures({ source: 'random', layers: ['relu1_2'] });
    const deep = await loadVggFeatures({ source: 'random', layers: ['relu1_2', 'relu2_1'] });
    const tiny = Tensor.zeros([1, 3, 1, 1]);
    const dispatches = (f: () => Tensor[]) => {
      const before = rt().dispatchCount;
      f().forEach((t) => t.dispose());
      return rt().dispatchCount - before;
    };
    // A 1×1 image cannot pass a max pool: relu1_2 needs none, relu2_1 one.
    expect(dispatches(() => shallow.features(tiny))).toBeGreaterThan(0);
    expect(() => deep.features(tiny)).toThrow('vgg19 features: relu1_2, relu2_1 needs an input of at least 2×2 pixels (1 max pools), got tensor [1, 3, 1, 1]');
    const x = Tensor.zeros([1, 3, 4, 4]);
    expect(dispatches(() => deep.features(x))).toBeGreaterThan(dispatches(() => shallow.features(x)));
    [tiny, x].forEach((t) => t.dispose());
    shallow.dispose();
    deep.dispose();
  });

  it("gives a conv's map before its ReLU (DeblurGAN's conv3_3): the ReLU of it is relu3_3, and it has negative values", async () => {
    const vgg = await loadVggFeatures({ source: 'random', seed: 4, layers: ['conv3_3', 'relu3_3'] });
    const x = Tensor.fromArray(hashUniform(3 * 16 * 16, 9), [1, 3, 16, 16]);
    const [conv, rel] = vgg.features(x);
    const c = await conv.data();
    const r = await rel.data();
    expect(c.some((v) => v < 0)).toBe(true);
    for (let i = 0; i < c.length; i++) expect(r[i]).toBe(Math.max(0, c[i]));
    [x, conv, rel].forEach((t) => t.dispose());
    vgg.dispose();
  });

  it('random weights depend on the seed only', async () => {
    const x = Tensor.fromArray(Float32Array.from({ length: 3 * 8 * 8 }, (_, i) => Math.sin(i)), [1, 3, 8, 8]);
    const run = async (seed: number) => {
      const vgg = await loadVggFeatures({ source: 'random', seed, layers: ['relu2_1'] });
      const [f] = vgg.features(x);
      const data = await f.data();
      f.dispose();
      vgg.dispose();
      return data;
    };
    const a = await run(3);
    expect(await run(3)).toEqual(a);
    expect(await run(4)).not.toEqual(a);
    x.dispose();
  });

  it('refuses images that are neither gray nor RGB', async () => {
    const vgg = await loadVggFeatures({ source: 'random', layers: ['relu1_1'] });
    scope(() => {
      expect(() => vgg.features(Tensor.zeros([1, 2, 4, 4]))).toThrow('vgg19 features: input must have 1 (gray) or 3 (RGB) channels, got tensor [1, 2, 4, 4]');
      expect(() => vgg.features(Tensor.zeros([3, 4, 4]))).toThrow(/vgg19 features: input must have rank 4/);
    });
    vgg.dispose();
  });
});
