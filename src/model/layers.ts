// Convolution and batch-norm layers as modules: weights N(0, 0.02) and zero biases, CycleGAN's init_weights('normal').
import { Tensor, type DType } from '../graph/tensor.js';
import { conv2d } from '../kernels/conv2d.js';
import { convTranspose2d } from '../kernels/conv_transpose2d.js';
import { batchNorm, type NormOptions } from '../kernels/batch_norm.js';
import { Module } from './module.js';

export interface ConvOptions {
  stride?: number;
  padding?: number;
  paddingMode?: 'zeros' | 'reflect';
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernel: number, readonly opts: ConvOptions) {
    super();
    this.weight = this.param('weight', [outChannels, inChannels, kernel, kernel], 'normal');
    this.bias = opts.bias === false ? null : this.param('bias', [outChannels], 'zeros');
  }
  /** `storage`: the output's (f16 maps, conv2d's option). */
  forward(x: Tensor, storage?: DType): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0, paddingMode: this.opts.paddingMode, storage });
  }
}

export class ConvTranspose2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(inChannels: number, outChannels: number, kernel: number, readonly opts: ConvOptions & { outputPadding?: number }) {
    super();
    this.weight = this.param('weight', [inChannels, outChannels, kernel, kernel], 'normal');
    this.bias = opts.bias === false ? null : this.param('bias', [outChannels], 'zeros');
  }
  /** `storage`: the output's (f16 maps, convTranspose2d's option). */
  forward(x: Tensor, storage?: DType): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.opts.stride ?? 1,
      padding: this.opts.padding ?? 0,
      outputPadding: this.opts.outputPadding ?? 0,
      storage,
    });
  }
}

/** BatchNorm2d in training mode (batch statistics, no running averages): pix2pix's norm layer. pix2pix's
 * init_weights draws the scale from N(1, 0.02) and zeroes the shift. */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(readonly channels: number) {
    super();
    this.weight = this.param('weight', [channels], 'normal', 0.02, 1);
    this.bias = this.param('bias', [channels], 'zeros');
  }
  forward(x: Tensor, activation?: NormOptions['activation']): Tensor {
    return batchNorm(x, { weight: this.weight, bias: this.bias, activation });
  }
}
