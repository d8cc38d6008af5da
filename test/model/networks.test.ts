import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputTensor, relError } from '../helpers/oracle.js';
import { ResnetGenerator } from '../../src/model/generator.js';
import { PatchDiscriminator } from '../../src/model/discriminator.js';
import { noGrad } from '../../src/autograd/tape.js';

useGpu();

describe('CycleGAN networks', () => {
  it('have the reference parameter counts at default settings (3 channels)', () => {
    const g = new ResnetGenerator();
    const d = new PatchDiscriminator();
    expect(g.parameterCount()).toBe(11_378_179);
    expect(d.parameterCount()).toBe(2_764_737);
    g.dispose();
    d.dispose();
  });

  for (const name of fixtureCases('networks')) {
    it(`${name} forward equals PyTorch with the same weights`, async () => {
      const fx = loadFixture('networks', name);
      const p = fx.params;
      const net =
        p.net === 'generator'
          ? new ResnetGenerator({ inChannels: p.channels, outChannels: p.channels, ngf: p.ngf, seed: p.seed })
          : new PatchDiscriminator({ inChannels: p.channels, ndf: p.ndf, seed: p.seed });
      const x = inputTensor(fx, 'x');
      const y = noGrad(() => net.forward(x));
      expect(y.shape).toEqual(fx.outputs.y.shape);
      expect(relError(await y.data(), fx.outputs.y)).toBeLessThanOrEqual(ORACLE_TOL);
      net.dispose();
    });
  }
});
