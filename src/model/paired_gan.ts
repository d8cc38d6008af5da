// The shape Pix2Pix and DeblurGAN share: one generator (the corrector) and one discriminator, each with its Adam,
// no image pool. Checkpoint prefixes are CycleGan's gS and dT.
import type { Tensor } from '../graph/tensor.js';
import { Adam } from '../autograd/adam.js';
import type { GanModel, StepLosses } from './cyclegan.js';
import type { Module } from './module.js';
import type { ImagePool } from './image_pool.js';

export abstract class PairedGan<G extends Module & { forward(x: Tensor): Tensor }, D extends Module> implements GanModel {
  readonly optG: Adam;
  readonly optD: Adam;

  constructor(readonly gS: G, readonly dT: D, adam: { lr: number; beta1: number; beta2: number }) {
    this.optG = new Adam(gS.parameters(), { ...adam, eps: 1e-8 });
    this.optD = new Adam(dT.parameters(), { ...adam, eps: 1e-8 });
  }

  abstract step(realS: Tensor, realT: Tensor): Promise<StepLosses>;

  networks(): [string, Module][] {
    return [['gS', this.gS], ['dT', this.dT]];
  }

  pools(): [string, ImagePool][] {
    return [];
  }

  setLearningRate(lr: number): void {
    this.optG.lr = lr;
    this.optD.lr = lr;
  }

  dispose(): void {
    this.gS.dispose();
    this.dT.dispose();
    this.optG.dispose();
    this.optD.dispose();
  }
}
