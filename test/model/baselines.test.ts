// The baselines' networks against PyTorch (scripts/fixtures/baseline_nets.py): parameter counts at the reference
// defaults, and forward passes with identical weights.
import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputTensor, relError } from '../helpers/oracle.js';
import { UnetGenerator } from '../../src/model/unet.js';
import { PatchDiscriminator } from '../../src/model/discriminator.js';
import { ResnetGenerator } from '../../src/model/generator.js';
import { noGrad } from '../../src/autograd/tape.js';
import { Tensor } from '../../src/graph/tensor.js';

useGpu();

describe('baseline networks', () => {
  it("have pix2pix's parameter counts: unet_256 and the BatchNorm PatchGAN on the 6-channel pair", () => {
    // PyTorch's counts of UnetGenerator(3, 3, 8, 64, BatchNorm2d) and NLayerDiscriminator(6, 64, 3, BatchNorm2d).
    const g = new UnetGenerator();
    const d = new PatchDiscriminator({ inChannels: 6, norm: 'batch' });
    expect(g.parameterCount()).toBe(54_413_955);
    expect(d.parameterCount()).toBe(2_768_705);
    g.dispose();
    d.dispose();
  });

  it('refuse a U-Net input that is not a multiple of 2^downs, and fewer than 5 downs', () => {
    const g = new UnetGenerator({ ngf: 2, downs: 5, inChannels: 1, outChannels: 1 });
    const x = Tensor.fill([1, 1, 48, 48], 0);
    expect(() => noGrad(() => g.forward(x))).toThrow('height and width must be multiples of 32 (2^5), got tensor [1, 1, 48, 48]');
    expect(() => new UnetGenerator({ downs: 4 })).toThrow('downs must be an integer ≥ 5');
    x.dispose();
    g.dispose();
  });

  for (const name of fixtureCases('baseline_nets')) {
    it(`${name} forward equals PyTorch with the same weights`, async () => {
      const fx = loadFixture('baseline_nets', name);
      const p = fx.params;
      const x = inputTensor(fx, 'x');
      let y;
      if (p.net === 'unet') {
        const g = new UnetGenerator({ inChannels: p.channels, outChannels: p.channels, ngf: p.ngf, downs: p.downs, seed: p.seed });
        y = noGrad(() => g.forward(x, p.dropoutSeed));
        g.dispose();
      } else if (p.net === 'discriminator') {
        const d = new PatchDiscriminator({ inChannels: p.channels, ndf: p.ndf, norm: 'batch', seed: p.seed });
        y = noGrad(() => d.forward(x));
        d.dispose();
      } else {
        const g = new ResnetGenerator({ inChannels: p.channels, outChannels: p.channels, ngf: p.ngf, blocks: p.blocks, globalResidual: true, seed: p.seed });
        y = noGrad(() => g.forward(x));
        g.dispose();
      }
      expect(y.shape).toEqual(fx.outputs.y.shape);
      expect(relError(await y.data(), fx.outputs.y)).toBeLessThanOrEqual(ORACLE_TOL);
      x.dispose();
      y.dispose();
    });
  }
});
