// ResnetGenerator of pytorch-CycleGAN-and-pix2pix (the paper's "style-transfer" generator). Parameter names equal
// PyTorch's state_dict keys (model.1.weight, …) so weights move between the two without a mapping table.
import { Tensor, type DType } from '../graph/tensor.js';
import { instanceNorm } from '../kernels/instance_norm.js';
import { relu, tanh } from '../kernels/unary.js';
import { add } from '../kernels/binary.js';
import { upsampleNearest2x } from '../kernels/upsample.js';
import { Module } from './module.js';
import { Conv2d, ConvTranspose2d } from './layers.js';
import { ResnetBlock } from './resnet_block.js';

/** The 7×7 stem and head pad by mirroring (ReflectionPad2d(3), read inside the convolution). */
const REFLECT_3 = { padding: 3, paddingMode: 'reflect' } as const;

export interface GeneratorOptions {
  inChannels: number;
  outChannels: number;
  ngf: number;
  blocks: number;
  /** 'transpose' (paper, default) or 'resize': nearest ×2 + reflect-pad conv3, the COMI code's choice; it avoids
   * the checkerboard artifacts the paper names as a limitation. */
  upsampling: 'transpose' | 'resize';
  /** Output tanh(G(x)) + x (COMI code) instead of tanh(G(x)). */
  globalResidual: boolean;
  seed: number;
}

/** Applies one instance normalisation; forward's default is instanceNorm. The correction benchmark's baseline
 * (bench/correct_passes.ts) passes one with whole-image statistics; tests pass the identity to measure the
 * receptive field. */
export type NormFn = (x: Tensor) => Tensor;

export const defaultGeneratorOptions: GeneratorOptions = {
  inChannels: 3, outChannels: 3, ngf: 64, blocks: 9, upsampling: 'transpose', globalResidual: false, seed: 1,
};

/** Instance normalisations in ResnetGenerator.forward, in order: stem, 2 downs, 2 per block, 2 ups. */
export function generatorNormLayers(blocks: number): number {
  return 5 + 2 * blocks;
}

/** ResnetGenerator's layers in forward's order, for executors that run them one at a time (layer-major correction). */
export interface GeneratorLayers {
  stem: Conv2d;
  down: readonly Conv2d[];
  blocks: readonly ResnetBlock[];
  /** ConvTranspose2d, or (upsampling 'resize') the 3×3 Conv2d after nearest ×2 and reflection pad 1. */
  up: readonly (Conv2d | ConvTranspose2d)[];
  head: Conv2d;
}

export class ResnetGenerator extends Module {
  readonly opts: GeneratorOptions;
  /** The eps of every instance normalisation of forward (instanceNorm's default), for NormFns that replace them. */
  readonly normEps = 1e-5;
  /** Storage of the maps between forward's layers: 'f16' (training's `precision`; needs shader-f16) halves those
   * the convolutions and norms read and the tape keeps, computed in f32 all the same. The maps that the upsampling
   * reads (the last block's output, the first up layer's) stay f32: the transposed convolution and the resize read
   * f32 only; so does the head's output, and every map when a NormFn is given. */
  mapStorage: DType = 'f32';
  private stem: Conv2d;
  private down: Conv2d[] = [];
  private blockList: ResnetBlock[] = [];
  private up: (Conv2d | ConvTranspose2d)[] = [];
  private head: Conv2d;

  constructor(options: Partial<GeneratorOptions> = {}) {
    super();
    const o = (this.opts = { ...defaultGeneratorOptions, ...options });
    this.stem = this.child('model.1', new Conv2d(o.inChannels, o.ngf, 7, REFLECT_3));
    let index = 4;
    for (let i = 0; i < 2; i++, index += 3) {
      const mult = 2 ** i;
      this.down.push(this.child(`model.${index}`, new Conv2d(o.ngf * mult, o.ngf * mult * 2, 3, { stride: 2, padding: 1 })));
    }
    for (let i = 0; i < o.blocks; i++, index++) this.blockList.push(this.child(`model.${index}`, new ResnetBlock(o.ngf * 4)));
    for (let i = 0; i < 2; i++, index += 3) {
      const c = o.ngf * 2 ** (2 - i);
      this.up.push(
        o.upsampling === 'transpose'
          ? this.child(`model.${index}`, new ConvTranspose2d(c, c / 2, 3, { stride: 2, padding: 1, outputPadding: 1 }))
          : this.child(`model.${index}`, new Conv2d(c, c / 2, 3, { padding: 1, paddingMode: 'reflect' })),
      );
    }
    this.head = this.child(`model.${index + 1}`, new Conv2d(o.ngf, o.outChannels, 7, REFLECT_3));
    this.initialize(o.seed);
  }

  /** How many times forward applies its NormFn. */
  get normLayers(): number {
    return generatorNormLayers(this.opts.blocks);
  }

  get layers(): GeneratorLayers {
    return { stem: this.stem, down: this.down, blocks: this.blockList, up: this.up, head: this.head };
  }

  forward(x: Tensor, norm?: NormFn): Tensor {
    // The default instance norm runs with its ReLU fused in; a given NormFn is followed by a separate ReLU.
    const maps = norm ? 'f32' : this.mapStorage;
    const normRelu = (t: Tensor, storage: DType) => (norm ? relu(norm(t)) : instanceNorm(t, { activation: 'relu', storage }));
    const blocks = this.blockList.length;
    let h = normRelu(this.stem.forward(x, maps), maps);
    this.down.forEach((d, i) => {
      h = normRelu(d.forward(h, maps), blocks === 0 && i === this.down.length - 1 ? 'f32' : maps);
    });
    this.blockList.forEach((b, i) => {
      h = b.forward(h, norm, { hidden: maps, output: i + 1 < blocks ? maps : 'f32' });
    });
    this.up.forEach((u, i) => {
      h = u instanceof ConvTranspose2d ? u.forward(h, maps) : u.forward(upsampleNearest2x(h), maps);
      h = normRelu(h, i + 1 < this.up.length ? 'f32' : maps);
    });
    const y = tanh(this.head.forward(h));
    return this.opts.globalResidual ? add(y, x) : y;
  }
}
