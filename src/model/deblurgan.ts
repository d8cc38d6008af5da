// DeblurGAN v1 (Kupyn et al. 2018) with its LSGAN option (`--gan_type lsgan`, one critic step): a ResNet generator
// with global residual (tanh(G(x)) + x), a PatchGAN on the image alone, loss GAN + λ·perceptual, perceptual = MSE of
// VGG19 conv3_3 features (before ReLU), λ 100. Each step updates D on the detached fake, then G against the updated D.
// The WGAN-GP critic of the paper's default needs double backward, which the tape does not have.
import { Tensor, scope } from '../graph/tensor.js';
import { add } from '../kernels/binary.js';
import { scale } from '../kernels/unary.js';
import { ResnetGenerator } from './generator.js';
import { PatchDiscriminator } from './discriminator.js';
import { featureLoss, ganLoss, readLosses, type FeatureFn, type GanLoss, type StepLosses } from './cyclegan.js';
import { PairedGan } from './paired_gan.js';

export interface DeblurGanOptions {
  channels: number;
  ngf: number;
  ndf: number;
  blocks: number;
  ganLoss: GanLoss;
  adversarialWeight: number;
  /** λ of the perceptual term. */
  perceptualWeight: number;
  lr: number;
  beta1: number;
  beta2: number;
  seed: number;
}

/** The VGG19 layer of DeblurGAN's perceptual loss: conv3_3, before its ReLU. */
export const DEBLURGAN_LAYER = 'conv3_3';

export class DeblurGan extends PairedGan<ResnetGenerator, PatchDiscriminator> {
  constructor(readonly opts: DeblurGanOptions, private features: FeatureFn) {
    super(
      new ResnetGenerator({ inChannels: opts.channels, outChannels: opts.channels, ngf: opts.ngf, blocks: opts.blocks, upsampling: 'transpose', globalResidual: true, seed: opts.seed * 4 + 1 }),
      new PatchDiscriminator({ inChannels: opts.channels, ndf: opts.ndf, layers: 3, seed: opts.seed * 4 + 3 }),
      opts,
    );
  }

  async step(realS: Tensor, realT: Tensor): Promise<StepLosses> {
    const o = this.opts;
    const parts = scope(() => {
      const fakeT = this.gS.forward(realS);
      this.dT.setRequiresGrad(true);
      const lossD = scale(add(ganLoss(o.ganLoss, this.dT.forward(fakeT.detach()), false), ganLoss(o.ganLoss, this.dT.forward(realT), true)), 0.5);
      this.optD.minimize(lossD);

      this.dT.setRequiresGrad(false);
      const adv = ganLoss(o.ganLoss, this.dT.forward(fakeT), true);
      const perceptual = featureLoss(this.features, fakeT, realT);
      const total = add(scale(adv, o.adversarialWeight), scale(perceptual, o.perceptualWeight));
      this.optG.minimize(total);
      return { gAdv: adv, gContent: perceptual, gTotal: total, dT: lossD };
    });
    return readLosses(parts);
  }
}
