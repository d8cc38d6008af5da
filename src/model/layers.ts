// Convolution layers as modules: weights N(0, 0.02) and zero biases, CycleGAN's init_weights('normal').
import { Tensor } from '../graph/tensor.js';
import { conv2d } from '../kernels/conv2d.js';
import { convTranspose2d } from '../kernels/conv_transpose2d.js';
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
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0, paddingMode: this.opts.paddingMode });
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
  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.opts.stride ?? 1,
      padding: this.opts.padding ?? 0,
      outputPadding: this.opts.outputPadding ?? 0,
    });
  }
}
