// NLayerDiscriminator ("70×70 PatchGAN") of pytorch-CycleGAN-and-pix2pix; names equal PyTorch's state_dict keys.
// norm 'batch' is pix2pix's variant: BatchNorm layers (affine, model.{i+1}) and no bias on the convolutions before them.
import { Tensor } from '../graph/tensor.js';
import { instanceNorm } from '../kernels/instance_norm.js';
import { leakyRelu } from '../kernels/unary.js';
import { Module } from './module.js';
import { BatchNorm2d, Conv2d } from './layers.js';

export interface DiscriminatorOptions {
  inChannels: number;
  ndf: number;
  layers: number;
  norm: 'instance' | 'batch';
  seed: number;
}

export const defaultDiscriminatorOptions: DiscriminatorOptions = { inChannels: 3, ndf: 64, layers: 3, norm: 'instance', seed: 2 };

export class PatchDiscriminator extends Module {
  readonly opts: DiscriminatorOptions;
  private convs: Conv2d[] = [];
  private norms: BatchNorm2d[] = [];

  constructor(options: Partial<DiscriminatorOptions> = {}) {
    super();
    const o = (this.opts = { ...defaultDiscriminatorOptions, ...options });
    const k = { stride: 2, padding: 1 };
    this.convs.push(this.child('model.0', new Conv2d(o.inChannels, o.ndf, 4, k)));
    const batch = o.norm === 'batch';
    const normed = (index: number, cin: number, cout: number, stride: number) => {
      this.convs.push(this.child(`model.${index}`, new Conv2d(cin, cout, 4, { stride, padding: 1, bias: !batch })));
      if (batch) this.norms.push(this.child(`model.${index + 1}`, new BatchNorm2d(cout)));
    };
    let mult = 1;
    let index = 2;
    for (let n = 1; n < o.layers; n++, index += 3) {
      const prev = mult;
      mult = Math.min(2 ** n, 8);
      normed(index, o.ndf * prev, o.ndf * mult, 2);
    }
    const prev = mult;
    mult = Math.min(2 ** o.layers, 8);
    normed(index, o.ndf * prev, o.ndf * mult, 1);
    this.convs.push(this.child(`model.${index + 3}`, new Conv2d(o.ndf * mult, 1, 4, { stride: 1, padding: 1 })));
    this.initialize(o.seed);
  }

  /** Patch logits [N, 1, h, w]; the first conv has no norm, the last no activation. */
  forward(x: Tensor): Tensor {
    let h = leakyRelu(this.convs[0].forward(x), 0.2);
    for (let i = 1; i < this.convs.length - 1; i++) {
      const c = this.convs[i].forward(h);
      h = this.norms.length ? this.norms[i - 1].forward(c, 'leakyRelu') : instanceNorm(c, { activation: 'leakyRelu', slope: 0.2 });
    }
    return this.convs[this.convs.length - 1].forward(h);
  }
}
