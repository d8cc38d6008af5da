// One complete training step of Pix2Pix and DeblurGAN (LSGAN option) against PyTorch from identical initial weights
// (scripts/fixtures/baseline_step.py): losses, updated weights and Adam's first moments (the gradients).
import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputTensor } from '../helpers/oracle.js';
import { featureNet, stepErrors } from '../helpers/train_step.js';
import { Pix2Pix } from '../../src/model/pix2pix.js';
import { DeblurGan } from '../../src/model/deblurgan.js';

useGpu();

describe('one baseline training step equals PyTorch', () => {
  for (const name of fixtureCases('baseline_step')) {
    it(name, async () => {
      const fx = loadFixture('baseline_step', name);
      const p = fx.params;
      const common = { channels: p.channels, ngf: p.ngf, ndf: p.ndf, ganLoss: p.ganLoss, adversarialWeight: p.adversarialWeight, lr: p.lr, beta1: p.beta1, beta2: p.beta2, seed: p.seed };
      const features = p.method === 'deblurgan' ? featureNet(p.channels, p.featureSeed) : null;
      const model = features
        ? new DeblurGan({ ...common, blocks: p.blocks, perceptualWeight: p.contentWeight }, features.fn)
        : new Pix2Pix({ ...common, downs: p.downs, l1Weight: p.contentWeight });
      const realS = inputTensor(fx, 'realS');
      const realT = inputTensor(fx, 'realT');
      const losses = await model.step(realS, realT);
      expect(losses.gCycle).toBe(0);
      expect(losses.dS).toBe(0);
      const errors = await stepErrors(fx, model, losses, ['gAdv', 'gContent', 'gTotal', 'dT']);
      const worst = Object.entries(errors).sort((a, b) => b[1] - a[1]).slice(0, 3);
      for (const [k, e] of Object.entries(errors)) expect(e, `${k} (worst: ${JSON.stringify(worst)})`).toBeLessThanOrEqual(1);
      realS.dispose();
      realT.dispose();
      model.dispose();
      features?.dispose();
    });
  }
});
