// NLayerDiscriminator ("70×70 PatchGAN") of pytorch-CycleGAN-and-pix2pix; names equal PyTorch's state_dict keys.
import { Tensor } from '../graph/tensor.js';
import { instanceNorm } from '../kernels/instance_norm.js';
import { leakyRelu } from '../kernels/unary.js';
import { Module } from './module.js';
import { Conv2d } from './layers.js';

export interface DiscriminatorOptions {
  inChannels: number;
  ndf: number;
  layers: number;
  seed: number;
}

export const defaultDiscriminatorOptions: DiscriminatorOptions = { inChannels: 3, ndf: 64, layers: 3, seed: 2 };

export class PatchDiscriminator extends Module {
  readonly opts: DiscriminatorOptions;
  private convs: Conv2d[] = [];

  constructor(options: Partial<DiscriminatorOptions> = {}) {
    super();
    const o = (this.opts = { ...defaultDiscriminatorOptions, ...options });
    const k = { stride: 2, padding: 1 };
    this.convs.push(this.child('model.0', new Conv2d(o.inChannels, o.ndf, 4, k)));
    let mult = 1;
    let index = 2;
    for (let n = 1; n < o.layers; n++, index += 3) {
      const prev = mult;
      mult = Math.min(2 ** n, 8);
      this.convs.push(this.child(`model.${index}`, new Conv2d(o.ndf * prev, o.ndf * mult, 4, k)));
    }
    const prev = mult;
    mult = Math.min(2 ** o.layers, 8);
    this.convs.push(this.child(`model.${index}`, new Conv2d(o.ndf * prev, o.ndf * mult, 4, { stride: 1, padding: 1 })));
    this.convs.push(this.child(`model.${index + 3}`, new Conv2d(o.ndf * mult, 1, 4, { stride: 1, padding: 1 })));
    this.initialize(o.seed);
  }

  /** Patch logits [N, 1, h, w]; the first conv has no norm, the last no activation. */
  forward(x: Tensor): Tensor {
    let h = leakyRelu(this.convs[0].forward(x), 0.2);
    for (let i = 1; i < this.convs.length - 1; i++) h = instanceNorm(this.convs[i].forward(h), { activation: 'leakyRelu', slope: 0.2 });
    return this.convs[this.convs.length - 1].forward(h);
  }
}
