// UnetGenerator of pytorch-CycleGAN-and-pix2pix (pix2pix's generator): nested UnetSkipConnectionBlocks, each a
// stride-2 conv4 down and a transposed conv4 up with its input concatenated to its output; BatchNorm; dropout 0.5
// after the up norm of the num_downs − 5 blocks next to the innermost (three in unet_256). Parameter names equal
// PyTorch's state_dict keys (model.model.1.model.3.…).
import { Tensor } from '../graph/tensor.js';
import { concat } from '../kernels/concat.js';
import { dropout } from '../kernels/dropout.js';
import { leakyRelu, relu, tanh } from '../kernels/unary.js';
import { Module } from './module.js';
import { BatchNorm2d, Conv2d, ConvTranspose2d } from './layers.js';

export interface UnetOptions {
  inChannels: number;
  outChannels: number;
  ngf: number;
  /** Halvings: 8 is unet_256 (a 256² input reaches 1×1), 7 unet_128; inputs are multiples of 2^downs. */
  downs: number;
  seed: number;
}

export const defaultUnetOptions: UnetOptions = { inChannels: 3, outChannels: 3, ngf: 64, downs: 8, seed: 1 };

const DOWN = { stride: 2, padding: 1, bias: false };

/** One non-outermost block. Its input is already leaky-ReLU'd: PyTorch's in-place LeakyReLU also rewrites the
 * tensor that the skip connection concatenates, so the skip carries LeakyReLU(x), not x. */
class UnetBlock extends Module {
  private down: Conv2d;
  private downNorm: BatchNorm2d | null;
  private up: ConvTranspose2d;
  private upNorm: BatchNorm2d;

  constructor(outer: number, inner: number, private sub: UnetBlock | null, readonly dropoutIndex: number | null) {
    super();
    this.down = this.child('model.1', new Conv2d(outer, inner, 4, DOWN));
    this.downNorm = sub ? this.child('model.2', new BatchNorm2d(inner)) : null;
    if (sub) this.child('model.3', sub);
    this.up = this.child(sub ? 'model.5' : 'model.3', new ConvTranspose2d(sub ? inner * 2 : inner, outer, 4, DOWN));
    this.upNorm = this.child(sub ? 'model.6' : 'model.4', new BatchNorm2d(outer));
  }

  forward(h: Tensor, dropoutSeed: number | null): Tensor {
    const d = this.down.forward(h);
    const inner = this.sub ? this.sub.forward(this.downNorm!.forward(d, 'leakyRelu'), dropoutSeed) : relu(d);
    let u = this.upNorm.forward(this.up.forward(this.sub ? relu(inner) : inner));
    if (this.dropoutIndex !== null && dropoutSeed !== null) u = dropout(u, 0.5, (dropoutSeed + this.dropoutIndex) >>> 0);
    return concat([h, u]);
  }
}

export class UnetGenerator extends Module {
  readonly opts: UnetOptions;
  private down: Conv2d;
  private sub: UnetBlock;
  private up: ConvTranspose2d;

  constructor(options: Partial<UnetOptions> = {}) {
    super();
    const o = (this.opts = { ...defaultUnetOptions, ...options });
    if (!Number.isInteger(o.downs) || o.downs < 5) throw new Error(`UnetGenerator: downs must be an integer ≥ 5 (pix2pix's smallest U-Net), got ${o.downs}`);
    const g = o.ngf;
    let block = new UnetBlock(g * 8, g * 8, null, null);
    for (let i = 0; i < o.downs - 5; i++) block = new UnetBlock(g * 8, g * 8, block, i);
    block = new UnetBlock(g * 4, g * 8, block, null);
    block = new UnetBlock(g * 2, g * 4, block, null);
    block = new UnetBlock(g, g * 2, block, null);
    this.down = this.child('model.model.0', new Conv2d(o.inChannels, g, 4, DOWN));
    this.sub = this.child('model.model.1', block);
    this.up = this.child('model.model.3', new ConvTranspose2d(g * 2, o.outChannels, 4, { stride: 2, padding: 1 }));
    this.initialize(o.seed);
  }

  /** Side lengths must be multiples of this. */
  get multiple(): number {
    return 2 ** this.opts.downs;
  }

  /** x [N, C, H, W], H and W multiples of 2^downs. dropoutSeed: training (block k's mask is seeded dropoutSeed + k,
   * counted from the innermost); null: no dropout (inference). BatchNorm always uses the batch's statistics. */
  forward(x: Tensor, dropoutSeed: number | null = null): Tensor {
    const [, , H, W] = x.shape;
    if (H % this.multiple || W % this.multiple) {
      throw new Error(`UnetGenerator: height and width must be multiples of ${this.multiple} (2^${this.opts.downs}), got ${x.describe()}`);
    }
    const inner = this.sub.forward(leakyRelu(this.down.forward(x), 0.2), dropoutSeed);
    return tanh(this.up.forward(relu(inner)));
  }
}
