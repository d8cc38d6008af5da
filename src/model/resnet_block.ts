// CycleGAN's ResnetBlock (pytorch-CycleGAN-and-pix2pix, no dropout): y = x + IN(conv(pad(relu(IN(conv(pad(x))))))),
// reflection pads of 1 and 3×3 convolutions with bias. Parameter names are PyTorch's state_dict keys.
import { Tensor, scope, type DType } from '../graph/tensor.js';
import { conv2d } from '../kernels/conv2d.js';
import { instanceNorm } from '../kernels/instance_norm.js';
import { relu } from '../kernels/unary.js';
import { add } from '../kernels/binary.js';
import { positiveInt, rank } from '../kernels/check.js';
import { Module } from './module.js';

export class ResnetBlock extends Module {
  readonly weight1: Tensor;
  readonly bias1: Tensor;
  readonly weight2: Tensor;
  readonly bias2: Tensor;

  /** Weights N(0, 0.02) once `initialize(seed)` runs (CycleGAN's init), biases zero. */
  constructor(readonly channels: number) {
    super();
    positiveInt('ResnetBlock', 'channels', channels);
    const w = [channels, channels, 3, 3];
    this.weight1 = this.param('conv_block.1.weight', w, 'normal');
    this.bias1 = this.param('conv_block.1.bias', [channels], 'zeros');
    this.weight2 = this.param('conv_block.5.weight', w, 'normal');
    this.bias2 = this.param('conv_block.5.bias', [channels], 'zeros');
  }

  /** x [N, channels, H, W] with H, W ≥ 2 (reflection pad 1) → same shape; `norm` replaces instanceNorm (NormFn).
   * `maps`: storage of the hidden maps (the convs' outputs, the first norm's) and of the block's output (f16 maps,
   * see ResnetGenerator.mapStorage; with `norm` given, f32 only). */
  forward(x: Tensor, norm?: (t: Tensor) => Tensor, maps: { hidden?: DType; output?: DType } = {}): Tensor {
    rank('ResnetBlock', x, 4);
    if (x.shape[1] !== this.channels) {
      throw new Error(`ResnetBlock: input must have ${this.channels} channels, got ${x.describe()}`);
    }
    // Intermediates are released here; the tape keeps what backward needs.
    return scope(() => {
      // The convs' outputs only feed the block's norms: stored as the hidden map.
      const conv = (t: Tensor, w: Tensor, b: Tensor) => conv2d(t, w, b, { padding: 1, paddingMode: 'reflect', storage: maps.hidden });
      // The default instance norms fuse the ReLU and the residual add; a given norm is composed with them.
      const c1 = conv(x, this.weight1, this.bias1);
      const h = norm ? relu(norm(c1)) : instanceNorm(c1, { activation: 'relu', storage: maps.hidden });
      const c2 = conv(h, this.weight2, this.bias2);
      return norm ? add(x, norm(c2)) : instanceNorm(c2, { residual: x, storage: maps.output });
    });
  }
}
