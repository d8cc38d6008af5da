// 2-D transposed convolution (PyTorch F.conv_transpose2d, dilation 1, groups 1): stride, padding, output_padding, bias.
import { Tensor, fmtShape, type DType } from '../graph/tensor.js';
import { record, isGradEnabled } from '../autograd/tape.js';
import { rank, positiveInt, nonNegativeInt, vectorOfLength, storageOption } from './check.js';
import { directGather, phaseGather, weightGrad, biasGrad, type ConvGeometry } from './conv_gemm.js';

export interface ConvTranspose2dOptions {
  stride?: number;
  padding?: number;
  outputPadding?: number;
  /** Only the first rows × columns of the output, computed alone (layer-major correction drops each tile's last
   * row and column). Not differentiable: throws where gradients would be recorded. */
  crop?: readonly [number, number];
  /** Storage of the output: 'f16' writes an f16 map (computed in f32; needs shader-f16). Default f32. */
  storage?: DType;
}

/** x [N, Cin, H, W], w [Cin, Cout, KH, KW], b [Cout] or null → [N, Cout, (H − 1)s − 2p + KH + op, …]. */
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  const stride = opts.stride ?? 1;
  const pad = opts.padding ?? 0;
  const outPad = opts.outputPadding ?? 0;
  rank(op, x, 4);
  rank(op, w, 4, 'weight');
  positiveInt(op, 'stride', stride);
  nonNegativeInt(op, 'padding', pad);
  nonNegativeInt(op, 'outputPadding', outPad);
  if (outPad >= stride) throw new Error(`${op}: outputPadding must be smaller than stride ${stride}, got ${outPad}`);
  const [N, Cin, H, W] = x.shape;
  const [wCin, Cout, KH, KW] = w.shape;
  if (wCin !== Cin) {
    throw new Error(`${op}: weight ${fmtShape(w.shape)} expects ${wCin} input channels, got input ${x.describe()}`);
  }
  if (b) vectorOfLength(op, 'bias', b, Cout);
  let OH = (H - 1) * stride - 2 * pad + KH + outPad;
  let OW = (W - 1) * stride - 2 * pad + KW + outPad;
  if (OH < 1 || OW < 1) throw new Error(`${op}: output would be ${OH}×${OW} for input ${x.describe()} and padding ${pad}`);
  const inputs = b ? [x, w, b] : [x, w];
  if (opts.crop) {
    const [ch, cw] = opts.crop;
    if (!(Number.isInteger(ch) && Number.isInteger(cw) && ch >= 1 && cw >= 1 && ch <= OH && cw <= OW)) throw new Error(`${op}: crop must be within the ${OH}×${OW} output, got ${ch}×${cw}`);
    if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) throw new Error(`${op}: crop is not supported with gradients (run it under noGrad)`);
    [OH, OW] = [ch, cw];
  }
  // Geometry of the transposed op itself (small side → large side), used by its forward gather.
  const storage = storageOption(op, opts.storage);
  const g: ConvGeometry = { N, Cin, H, W, Cout, OH, OW, KH, KW, stride, pad, yF16: storage === 'f16' };
  const y = Tensor.empty([N, Cout, OH, OW], storage);
  phaseGather(g, x.binding, w.binding, b ? b.binding : null, y);
  return record(op, inputs, y, [x, w], (dy, into) => {
    // The direct convolution maps dy (large side) back to x's shape; w [Cin, Cout, …] is its [out, in, …] weight.
    const direct: ConvGeometry = { N, Cin: Cout, H: OH, W: OW, Cout: Cin, OH: H, OW: W, KH, KW, stride, pad };
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = Tensor.empty(x.shape);
      directGather(direct, dy.savedBinding, w.savedBinding, null, dx);
    }
    const dw = w.requiresGrad ? weightGrad(direct, dy.savedBinding, x.savedBinding, into[1]) : null;
    const grads = [dx, dw];
    if (b) grads.push(b.requiresGrad ? biasGrad(dy, into[2]) : null);
    return grads;
  });
}
