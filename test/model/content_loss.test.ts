import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputTensor, inputData, relError } from '../helpers/oracle.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { add } from '../../src/kernels/binary.js';
import { scale } from '../../src/kernels/unary.js';
import { SsimLoss, PixelContentLoss, parseContentTerms } from '../../src/model/content_loss.js';

useGpu();

describe(`SSIM content loss against PyTorch (max relative error ≤ ${ORACLE_TOL})`, () => {
  for (const name of fixtureCases('content')) {
    it(name, async () => {
      const fx = loadFixture('content', name);
      const x = inputTensor(fx, 'x', true);
      const y = inputTensor(fx, 'y', true);
      const loss = new SsimLoss(x.shape[1]);
      const value = scope(() => {
        const mix = fx.params.mix as number;
        const v = loss.forward(x, add(scale(x, mix), scale(y, 1 - mix)));
        backward(v, Tensor.fill([1], fx.params.grad));
        return v;
      });
      expect(relError(await value.data(), fx.outputs.y)).toBeLessThanOrEqual(ORACLE_TOL);
      expect(relError(await x.grad!.data(), fx.outputs.dx)).toBeLessThanOrEqual(ORACLE_TOL);
      expect(relError(await y.grad!.data(), fx.outputs.dy)).toBeLessThanOrEqual(ORACLE_TOL);
      loss.dispose();
    });
  }
});

describe('content losses', () => {
  it('SSIM loss: finite differences in both images', async () => {
    const loss = new SsimLoss(1);
    const shape = [1, 1, 12, 13];
    const r = await gradcheck((a, b) => loss.forward(a, b), [
      { data: inputData({ shape, seed: 3, scale: 1 }), shape },
      { data: inputData({ shape, seed: 4, scale: 1 }), shape },
    ]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
    loss.dispose();
  });

  it('identical images: SSIM loss 0, L1+SSIM 0; different images: positive', async () => {
    const shape = [1, 3, 16, 16];
    const a = Tensor.fromArray(inputData({ shape, seed: 7, scale: 1 }), shape);
    const b = Tensor.fromArray(inputData({ shape, seed: 8, scale: 1 }), shape);
    const both = new PixelContentLoss(['l1', 'ssim'], 3);
    expect(Math.abs(await both.forward(a, a)!.item())).toBeLessThan(1e-5);
    expect(await both.forward(a, b)!.item()).toBeGreaterThan(0.5);
    expect(new PixelContentLoss(['vgg'], 3).forward(a, b)).toBeNull();
    both.dispose();
  });

  it('mse and l1+mse are the mean squared and mean absolute differences, summed (f64 CPU reference, 1e-5 relative)', async () => {
    const shape = [2, 1, 8, 8];
    const x = inputData({ shape, seed: 9, scale: 1 });
    const y = inputData({ shape, seed: 10, scale: 1 });
    let sq = 0;
    let abs = 0;
    for (let i = 0; i < x.length; i++) {
      sq += (x[i] - y[i]) ** 2;
      abs += Math.abs(x[i] - y[i]);
    }
    const [a, b] = [Tensor.fromArray(x, shape), Tensor.fromArray(y, shape)];
    const mse = await new PixelContentLoss(['mse'], 1).forward(a, b)!.item();
    const both = await new PixelContentLoss(['l1', 'mse'], 1).forward(a, b)!.item();
    expect(Math.abs(mse / (sq / x.length) - 1)).toBeLessThan(1e-5);
    expect(Math.abs(both / ((sq + abs) / x.length) - 1)).toBeLessThan(1e-5);
  });

  it('parses term lists and refuses unknown or repeated terms', () => {
    expect(parseContentTerms('ssim+l1')).toEqual(['l1', 'ssim']);
    expect(parseContentTerms('ssim+mse')).toEqual(['mse', 'ssim']);
    expect(parseContentTerms('vgg')).toEqual(['vgg']);
    expect(() => parseContentTerms('l2')).toThrow(/unknown content term 'l2'/);
    expect(() => parseContentTerms('l1+l1')).toThrow(/repeated/);
  });
});
