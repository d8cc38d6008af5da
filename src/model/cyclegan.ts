// The COMI model: two ResNet generators and two PatchGAN discriminators trained with adversarial + content
// (paired, eq. 6–8: VGG19 features, or L1 / SSIM) + cycle losses, following pytorch-CycleGAN-and-pix2pix's update
// order (G, then D). Domains: S = out-of-focus (source), T = in-focus (target). G_s: S → T corrects, G_t: T → S blurs.
// A zero weight removes its networks from the step: cycle weight 0 drops G_t and D_s (a one-way corrector), and
// adversarial weight 0 also drops D_t (plain supervised training on the content loss).
import { Tensor, scope } from '../graph/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { Adam } from '../autograd/adam.js';
import { add } from '../kernels/binary.js';
import { catBatch, sliceBatch } from '../kernels/concat.js';
import { scale } from '../kernels/unary.js';
import { mseLoss, l1Loss, bceWithLogitsLoss } from '../kernels/losses.js';
import { ResnetGenerator, type GeneratorOptions } from './generator.js';
import { PatchDiscriminator, type DiscriminatorOptions } from './discriminator.js';
import { ImagePool } from './image_pool.js';
import type { Module } from './module.js';
import { PixelContentLoss, addTerm, type ContentTerm } from './content_loss.js';

export type GanLoss = 'lsgan' | 'log';

export interface CycleGanOptions {
  channels: number;
  ngf: number;
  ndf: number;
  blocks: number;
  upsampling: GeneratorOptions['upsampling'];
  globalResidual: boolean;
  ganLoss: GanLoss;
  /** λ1, λ2, λ3 of the paper: adversarial, content, cycle. */
  adversarialWeight: number;
  contentWeight: number;
  /** What the content loss compares: VGG19 features (the paper) and/or pixels (L1, SSIM); terms are summed. */
  contentTerms: ContentTerm[];
  cycleWeight: number;
  lr: number;
  beta1: number;
  beta2: number;
  poolSize: number;
  seed: number;
}

export const paperDefaults: CycleGanOptions = {
  channels: 3, ngf: 64, ndf: 64, blocks: 9, upsampling: 'transpose', globalResidual: false, ganLoss: 'lsgan',
  adversarialWeight: 1, contentWeight: 1, contentTerms: ['vgg'], cycleWeight: 0.001, lr: 1e-4, beta1: 0.5, beta2: 0.99, poolSize: 50, seed: 0,
};

/** Feature maps compared by the content loss (VGG19 layers); null disables the content term. */
export type FeatureFn = (x: Tensor) => Tensor[];

export interface StepLosses {
  gAdv: number;
  gContent: number;
  gCycle: number;
  gTotal: number;
  dT: number;
  dS: number;
}

/** What the trainer, checkpoints and guards need of a trainable model (CycleGan, Pix2Pix, DeblurGan). */
export interface GanModel {
  /** The corrector, S → T. */
  readonly gS: Module & { forward(x: Tensor): Tensor };
  readonly optG: Adam;
  readonly optD: Adam;
  /** Every network by its checkpoint prefix: gS, gT (reverse generator), dT (judges T), dS (judges S). */
  networks(): [string, Module][];
  pools(): [string, ImagePool][];
  step(realS: Tensor, realT: Tensor): Promise<StepLosses>;
  setLearningRate(lr: number): void;
  dispose(): void;
}

const LOSS_KEYS = ['gAdv', 'gContent', 'gCycle', 'gTotal', 'dT', 'dS'] as const;

/** A step's losses in one readback (one flush for all six); absent terms read 0. Disposes them. */
export async function readLosses(parts: Partial<Record<keyof StepLosses, Tensor | null>>): Promise<StepLosses> {
  const values = await Promise.all(LOSS_KEYS.map((k) => parts[k]?.item() ?? 0));
  for (const k of LOSS_KEYS) parts[k]?.dispose();
  return Object.fromEntries(LOSS_KEYS.map((k, i) => [k, values[i]])) as unknown as StepLosses;
}

/** Against 1 (real) or 0 (fake), or per element against a target tensor. */
export function ganLoss(kind: GanLoss, logits: Tensor, target: boolean | Tensor): Tensor {
  const t = typeof target === 'boolean' ? (target ? 1 : 0) : target;
  return kind === 'lsgan' ? mseLoss(logits, t) : bceWithLogitsLoss(logits, t);
}

/** Σ over feature maps of MSE(features(fake), features(real)); the real image's features carry no gradient. */
export function featureLoss(features: FeatureFn, fake: Tensor, real: Tensor): Tensor {
  const ff = features(fake);
  const fr = noGrad(() => features(real));
  let loss: Tensor | null = null;
  for (let i = 0; i < ff.length; i++) loss = addTerm(loss, mseLoss(ff[i], fr[i]));
  return loss!;
}

export class CycleGan implements GanModel {
  readonly opts: CycleGanOptions;
  readonly gS: ResnetGenerator;
  readonly gT: ResnetGenerator;
  readonly dT: PatchDiscriminator;
  readonly dS: PatchDiscriminator;
  readonly optG: Adam;
  readonly optD: Adam;
  readonly poolT: ImagePool;
  readonly poolS: ImagePool;
  private pixelContent: PixelContentLoss;
  private targets = new Map<string, Tensor>();

  constructor(options: Partial<CycleGanOptions>, private features: FeatureFn | null, random: () => number) {
    const o = (this.opts = { ...paperDefaults, ...options });
    if (o.contentWeight > 0 && o.contentTerms.length === 0) throw new Error('content weight > 0 needs at least one content term');
    if (o.contentWeight > 0 && o.contentTerms.includes('vgg') && !features) throw new Error('a VGG content term needs VGG features');
    const g = { inChannels: o.channels, outChannels: o.channels, ngf: o.ngf, blocks: o.blocks, upsampling: o.upsampling, globalResidual: o.globalResidual };
    const d: Partial<DiscriminatorOptions> = { inChannels: o.channels, ndf: o.ndf, layers: 3 };
    this.gS = new ResnetGenerator({ ...g, seed: o.seed * 4 + 1 });
    this.gT = new ResnetGenerator({ ...g, seed: o.seed * 4 + 2 });
    this.dT = new PatchDiscriminator({ ...d, seed: o.seed * 4 + 3 });
    this.dS = new PatchDiscriminator({ ...d, seed: o.seed * 4 + 4 });
    const adam = { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: 1e-8 };
    this.optG = new Adam([...this.gS.parameters(), ...this.gT.parameters()], adam);
    this.optD = new Adam([...this.dT.parameters(), ...this.dS.parameters()], adam);
    this.poolT = new ImagePool(o.poolSize, random);
    this.poolS = new ImagePool(o.poolSize, random);
    this.pixelContent = new PixelContentLoss(o.contentTerms, o.channels);
  }

  /** Discriminator targets for a batch of real then fake images of one size: 1s, then 0s (kept per shape). */
  private realThenFake(shape: readonly number[]): Tensor {
    const key = shape.join('x');
    let t = this.targets.get(key);
    if (!t) {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      t = Tensor.fromArray(data.fill(1, 0, data.length / 2), shape).keep();
      this.targets.set(key, t);
    }
    return t;
  }

  /** G_t and D_s take part (the cycle term needs the reverse generator). */
  get twoWay(): boolean {
    return this.opts.cycleWeight > 0;
  }

  private contentLoss(fake: Tensor, real: Tensor): Tensor {
    let loss = this.pixelContent.forward(fake, real);
    if (this.opts.contentTerms.includes('vgg')) loss = addTerm(loss, featureLoss(this.features!, fake, real));
    return loss!;
  }

  /** One iteration on a batch of paired images in [-1, 1]: G_s (and G_t) update, then D_t (and D_s) update. */
  async step(realS: Tensor, realT: Tensor): Promise<StepLosses> {
    const o = this.opts;
    const twoWay = this.twoWay;
    const adversarial = o.adversarialWeight > 0;
    const parts = scope(() => {
      // Generators: discriminators are frozen so no gradient is accumulated into them.
      this.dT.setRequiresGrad(false);
      this.dS.setRequiresGrad(false);
      // G_s sees realS and fakeS = G_t(realT) as one batch: one forward and backward instead of two, and its weight
      // gradients sum inside the kernels (instance norm is per image, so each item's result is unchanged).
      const fakeS = twoWay ? this.gT.forward(realT) : null;
      const n = realS.shape[0];
      const both = fakeS ? this.gS.forward(catBatch([realS, fakeS])) : null;
      const fakeT = both ? sliceBatch(both, 0, n) : this.gS.forward(realS);
      const recT = both ? sliceBatch(both, n, fakeS!.shape[0]) : null;
      const recS = twoWay ? this.gT.forward(fakeT) : null;
      let adv: Tensor | null = null;
      if (adversarial) {
        adv = ganLoss(o.ganLoss, this.dT.forward(fakeT), true);
        if (fakeS) adv = add(adv, ganLoss(o.ganLoss, this.dS.forward(fakeS), true));
      }
      const cycle = recS && recT ? add(l1Loss(recS, realS), l1Loss(recT, realT)) : null;
      let total: Tensor | null = null;
      if (adv) total = scale(adv, o.adversarialWeight);
      if (cycle) total = addTerm(total, scale(cycle, o.cycleWeight));
      let content: Tensor | null = null;
      if (o.contentWeight > 0) {
        content = this.contentLoss(fakeT, realT);
        if (fakeS) content = add(content, this.contentLoss(fakeS, realS));
        total = addTerm(total, scale(content, o.contentWeight));
      }
      if (!total) throw new Error('every loss weight is 0: nothing to train');
      this.optG.minimize(total);

      // Discriminators, on pooled (detached) fakes.
      let lossDT: Tensor | null = null;
      let lossDS: Tensor | null = null;
      if (adversarial) {
        this.dT.setRequiresGrad(true);
        this.dS.setRequiresGrad(twoWay);
        // Real and pooled fake images go through each discriminator as one batch (as G_s above); with halves of one
        // size the mean loss against 1s then 0s is the mean of the real and fake losses. A pooled image from a batch
        // of another size (an epoch's last) goes through on its own.
        const dLoss = (d: PatchDiscriminator, real: Tensor, fake: Tensor) => {
          if (real.shape[0] !== fake.shape[0]) return scale(add(ganLoss(o.ganLoss, d.forward(real), true), ganLoss(o.ganLoss, d.forward(fake), false)), 0.5);
          const logits = d.forward(catBatch([real, fake]));
          return ganLoss(o.ganLoss, logits, this.realThenFake(logits.shape));
        };
        lossDT = dLoss(this.dT, realT, this.poolT.query(fakeT.detach()));
        if (fakeS) lossDS = dLoss(this.dS, realS, this.poolS.query(fakeS.detach()));
        this.optD.minimize(lossDS ? add(lossDT, lossDS) : lossDT);
      }
      return { adv, content, cycle, total, lossDT, lossDS };
    });
    return readLosses({ gAdv: parts.adv, gContent: parts.content, gCycle: parts.cycle, gTotal: parts.total, dT: parts.lossDT, dS: parts.lossDS });
  }

  networks(): [string, Module][] {
    return [['gS', this.gS], ['gT', this.gT], ['dT', this.dT], ['dS', this.dS]];
  }

  pools(): [string, ImagePool][] {
    return [['poolT', this.poolT], ['poolS', this.poolS]];
  }

  setLearningRate(lr: number): void {
    this.optG.lr = lr;
    this.optD.lr = lr;
  }

  dispose(): void {
    for (const m of [this.gS, this.gT, this.dT, this.dS]) m.dispose();
    this.optG.dispose();
    this.optD.dispose();
    this.poolT.dispose();
    this.poolS.dispose();
    this.pixelContent.dispose();
    for (const t of this.targets.values()) t.dispose();
    this.targets.clear();
  }
}

/** CycleGAN's linear policy over iterations: constant for nConst, then linearly to 0 over nDecay. */
export function linearDecay(iteration: number, nConst: number, nDecay: number): number {
  return 1 - Math.max(0, iteration - nConst) / (nDecay + 1);
}

