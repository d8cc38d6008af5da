// 2-D convolution (PyTorch nn.Conv2d, dilation 1, groups 1): zero or reflection padding, stride, optional bias.
import { Tensor, fmtShape, type DType } from '../graph/tensor.js';
import { record } from '../autograd/tape.js';
import { rank, positiveInt, nonNegativeInt, vectorOfLength, storageOption } from './check.js';
import { checkReflection } from './pad.js';
import { directGather, inputGrad, weightGrad, biasGrad, weightAndBiasGrad, gradientVariants, sharedGradientOperands, pairedGradients, type ConvGeometry } from './conv_gemm.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  /** 'reflect' (padding_mode='reflect'): the kernels read the input mirrored, no padded copy is made. */
  paddingMode?: 'zeros' | 'reflect';
  /** Storage of the output: 'f16' writes an f16 map (computed in f32; needs shader-f16). Default f32. */
  storage?: DType;
}

/** x [N, Cin, H, W], w [Cout, Cin, KH, KW], b [Cout] or null → [N, Cout, (H + 2p − KH)/s + 1, (W + 2p − KW)/s + 1].
 * x may be an f16 map (read into f32); the output is f32 unless `storage` says f16; every gradient is f32. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const stride = opts.stride ?? 1;
  const pad = opts.padding ?? 0;
  rank(op, x, 4);
  rank(op, w, 4, 'weight');
  positiveInt(op, 'stride', stride);
  nonNegativeInt(op, 'padding', pad);
  const [N, Cin, H, W] = x.shape;
  const [Cout, wCin, KH, KW] = w.shape;
  if (wCin !== Cin) {
    throw new Error(`${op}: weight ${fmtShape(w.shape)} expects ${wCin} input channels, got input ${x.describe()}`);
  }
  if (b) vectorOfLength(op, 'bias', b, Cout);
  const reflect = opts.paddingMode === 'reflect';
  if (!reflect && opts.paddingMode !== undefined && opts.paddingMode !== 'zeros') {
    throw new Error(`${op}: paddingMode must be 'zeros' or 'reflect', got ${JSON.stringify(opts.paddingMode)}`);
  }
  if (reflect) checkReflection(op, x, [pad, pad, pad, pad]);
  const storage = storageOption(op, opts.storage);
  if (H + 2 * pad < KH || W + 2 * pad < KW) {
    throw new Error(`${op}: kernel ${KH}×${KW} is larger than the padded input ${H + 2 * pad}×${W + 2 * pad} (input ${x.describe()}, padding ${pad})`);
  }
  const g: ConvGeometry = {
    N, Cin, H, W, Cout, KH, KW, stride, pad, reflect,
    OH: Math.floor((H + 2 * pad - KH) / stride) + 1,
    OW: Math.floor((W + 2 * pad - KW) / stride) + 1,
    xF16: x.dtype === 'f16',
    yF16: storage === 'f16',
  };
  const y = Tensor.empty([N, Cout, g.OH, g.OW], storage);
  directGather(g, x.storageBinding, w.binding, b ? b.binding : null, y);
  const inputs = b ? [x, w, b] : [x, w];
  return record(op, inputs, y, [x, w], (dy, into) => {
    // dx is the transposed convolution of dy with the same weight (conv_gemm.ts inputGrad); with reflection, the
    // kernels fold the mirrored positions in and add to an earlier gradient the tape offers. Where both gradients
    // are Winograd's they are computed together (their GEMMs, and their inverse transforms, in one dispatch each),
    // or at least their transforms (dy's shared) are made in one dispatch.
    let dx: Tensor | null = null;
    const accX = reflect && into[0] !== null;
    if (x.requiresGrad) dx = accX ? into[0]! : Tensor.empty(x.shape);
    const withBias = !!b?.requiresGrad;
    // Each gradient's variant is resolved once, for all three uses below.
    const variants = gradientVariants(g, x.savedBinding, dy.savedBinding, w.savedBinding, x.requiresGrad, w.requiresGrad);
    const paired = dx && w.requiresGrad ? pairedGradients(g, x.savedBinding, dy, w.savedBinding, dx, accX, [into[1], into[2]], withBias, variants) : null;
    if (paired) return b ? [dx, paired[0], paired[1]] : [dx, paired[0]];
    const shared = sharedGradientOperands(variants, x.savedBinding, w.savedBinding);
    try {
      if (dx) inputGrad(g, dy.savedBinding, w.savedBinding, dx, accX, shared, variants.input!);
      if (w.requiresGrad && withBias) return [dx, ...weightAndBiasGrad(g, x.savedBinding, dy, [into[1], into[2]], shared, variants.weight!)];
      const dw = w.requiresGrad ? weightGrad(g, x.savedBinding, dy.savedBinding, into[1], shared, variants.weight!) : null;
      const grads = [dx, dw];
      if (b) grads.push(b.requiresGrad ? biasGrad(dy, into[2]) : null);
      return grads;
    } finally {
      shared.dispose();
    }
  });
}
