// Pix2Pix (Isola et al. 2017) as pytorch-CycleGAN-and-pix2pix trains it: a U-Net generator with BatchNorm and
// dropout, a conditional PatchGAN with BatchNorm judging the 6-channel pair (condition ⊕ image), loss GAN + λ·L1
// (λ 100); each step updates D first (on the detached fake), then G against the updated D, one forward of G.
import { Tensor, scope } from '../graph/tensor.js';
import { add } from '../kernels/binary.js';
import { scale } from '../kernels/unary.js';
import { concat } from '../kernels/concat.js';
import { l1Loss } from '../kernels/losses.js';
import { UnetGenerator } from './unet.js';
import { PatchDiscriminator } from './discriminator.js';
import { ganLoss, readLosses, type GanLoss, type StepLosses } from './cyclegan.js';
import { nameSeed } from './module.js';
import { PairedGan } from './paired_gan.js';

export interface Pix2PixOptions {
  channels: number;
  ngf: number;
  ndf: number;
  downs: number;
  ganLoss: GanLoss;
  adversarialWeight: number;
  /** λ_L1. */
  l1Weight: number;
  lr: number;
  beta1: number;
  beta2: number;
  seed: number;
}

export class Pix2Pix extends PairedGan<UnetGenerator, PatchDiscriminator> {
  constructor(readonly opts: Pix2PixOptions) {
    // The seeds CycleGan gives G_s and D_t.
    super(
      new UnetGenerator({ inChannels: opts.channels, outChannels: opts.channels, ngf: opts.ngf, downs: opts.downs, seed: opts.seed * 4 + 1 }),
      new PatchDiscriminator({ inChannels: 2 * opts.channels, ndf: opts.ndf, layers: 3, norm: 'batch', seed: opts.seed * 4 + 3 }),
      opts,
    );
  }

  /** Dropout masks of the step to come: a function of the seed and G's step count, so a resumed run repeats them. */
  get dropoutSeed(): number {
    return nameSeed(this.opts.seed, `dropout${this.optG.stepCount}`);
  }

  async step(realS: Tensor, realT: Tensor): Promise<StepLosses> {
    const o = this.opts;
    const parts = scope(() => {
      const fakeT = this.gS.forward(realS, this.dropoutSeed);
      this.dT.setRequiresGrad(true);
      const fakePair = concat([realS, fakeT.detach()]);
      const lossD = scale(add(ganLoss(o.ganLoss, this.dT.forward(fakePair), false), ganLoss(o.ganLoss, this.dT.forward(concat([realS, realT])), true)), 0.5);
      this.optD.minimize(lossD);

      this.dT.setRequiresGrad(false);
      const adv = ganLoss(o.ganLoss, this.dT.forward(concat([realS, fakeT])), true);
      const l1 = l1Loss(fakeT, realT);
      const total = add(scale(adv, o.adversarialWeight), scale(l1, o.l1Weight));
      this.optG.minimize(total);
      return { gAdv: adv, gContent: l1, gTotal: total, dT: lossD };
    });
    return readLosses(parts);
  }
}
