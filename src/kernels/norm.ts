// Shared driver of instance_norm and batch_norm: both normalise groups of NCHW planes by (mean, rstd) with an
// optional per-channel affine map, and differ only in which planes form a group (one (n, c) plane, or all N
// planes of channel c): norm.wgsl and norm_backward.wgsl take the group shape as a parameter. Both can
// fuse the activation that follows them (CycleGAN's norm → ReLU / leaky ReLU) or a residual add (x + IN(…) of a
// ResNet block), saving a pass over the tensor and a dispatch each way.
import { Tensor, type DType } from '../graph/tensor.js';
import { rt, grid1d } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { rank, vectorOfLength, sameShape, storageOption } from './check.js';
import { reductionVariant } from './autotune.js';

export interface NormOptions {
  /** Added to the variance; default 1e-5 (PyTorch). */
  eps?: number;
  /** Per-channel scale [C] (PyTorch's affine weight). */
  weight?: Tensor;
  /** Per-channel shift [C]. */
  bias?: Tensor;
  /** Applied to the normalised values (leaky ReLU with `slope`, default 0.2). */
  activation?: 'relu' | 'leakyRelu';
  slope?: number;
  /** Added after the normalisation (not combinable with an activation): y = norm(x) + residual (f32 or f16). */
  residual?: Tensor;
  /** Storage of y: 'f16' keeps it as an f16 map (computed in f32, rounded when written; needs shader-f16) for the
   * layers that read f16 (conv2d's input, a later norm's residual). Default f32. */
  storage?: DType;
}

const ACTIVATIONS = { relu: 1, leakyRelu: 2 } as const;

const FORWARD = defineKernel({
  shader: 'norm',
  params: { P: 'u32', C: 'u32', G: 'u32', L: 'u32', hasWeight: 'u32', hasBias: 'u32', eps: 'f32', slope: 'f32' },
  bindings: { x: { access: 'read', type: 'array<X>' }, weight: 'read', bias: 'read', r: { access: 'read', type: 'array<R>' }, y: { access: 'read_write', type: 'array<Y>' }, stats: 'read_write' },
  consts: { ACT: 'u32', RES: 'u32', X: 'float', R: 'float', Y: 'float' },
  includes: ['welford'],
  entry: ['lid', 'wid', 'nwg'],
  reduction: 'f32',
});
const BACKWARD = defineKernel({
  shader: 'norm_backward',
  params: { P: 'u32', C: 'u32', N: 'u32', L: 'u32', hasWeight: 'u32', slope: 'f32' },
  bindings: { x: { access: 'read', type: 'array<X>' }, stats: 'read', weight: 'read', dy: 'read', y: { access: 'read', type: 'array<Y>' }, dx: 'read_write', dweight: 'read_write', dbias: 'read_write' },
  consts: { ACT: 'u32', X: 'float', Y: 'float' },
  entry: ['lid', 'wid', 'nwg'],
  reduction: 'vec2f',
});

export function normalizeGroups(op: 'instance_norm' | 'batch_norm', x: Tensor, opts: NormOptions = {}): Tensor {
  rank(op, x, 4);
  const [N, C, H, W] = x.shape;
  const L = H * W;
  const { eps = 1e-5, weight, bias } = opts;
  if (!(Number.isFinite(eps) && eps > 0)) throw new Error(`${op}: eps must be a positive number, got ${eps}`);
  if (weight) vectorOfLength(op, 'weight', weight, C);
  if (bias) vectorOfLength(op, 'bias', bias, C);
  if (op === 'batch_norm' && N * L < 2) {
    throw new Error(`${op}: needs more than one value per channel in training mode, got input ${x.describe()}`);
  }
  const { activation, residual } = opts;
  const slope = opts.slope ?? 0.2;
  if (activation !== undefined && !(activation in ACTIVATIONS)) {
    throw new Error(`${op}: activation must be 'relu' or 'leakyRelu', got ${JSON.stringify(activation)}`);
  }
  if (!(Number.isFinite(slope) && slope >= 0)) throw new Error(`${op}: slope must be a non-negative number, got ${slope}`);
  if (residual) {
    if (activation) throw new Error(`${op}: a residual cannot be combined with an activation`);
    sameShape(op, x, residual);
  }
  const act = activation ? ACTIVATIONS[activation] : 0;
  const storage = storageOption(op, opts.storage);

  const r = rt();
  const reduction = reductionVariant();
  const groups = op === 'instance_norm' ? N * C : C;
  const y = Tensor.empty(x.shape, storage);
  const stats = Tensor.empty([groups, 2]);
  // A missing weight, bias or residual is never read (flags and constants); x stands in so the binding is valid.
  const planesPerGroup = op === 'instance_norm' ? 1 : N;
  r.dispatch(
    FORWARD,
    { x: x.storageBinding, weight: (weight ?? x).storageBinding, bias: (bias ?? x).storageBinding, r: (residual ?? x).storageBinding, y: y.storageBinding, stats: stats.binding },
    { P: planesPerGroup, C, G: groups, L, hasWeight: weight ? 1 : 0, hasBias: bias ? 1 : 0, eps, slope },
    { consts: { ACT: act, RES: residual ? 1 : 0, X: x.dtype, R: residual?.dtype ?? 'f32', Y: storage }, reduction, groups: grid1d(groups, 1) },
  );

  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  // The activation's derivative is read from the output: ReLU and leaky ReLU keep the sign.
  const saved = [x, stats, ...(weight ? [weight] : []), ...(act ? [y] : [])];
  const out = record(op, inputs, y, saved, (dy) => {
    const dx = Tensor.empty(x.shape);
    const dweight = Tensor.empty([C]);
    const dbias = Tensor.empty([C]);
    r.dispatch(
      BACKWARD,
      {
        x: x.savedBinding, stats: stats.savedBinding, weight: (weight ?? x).savedBinding, dy: dy.savedBinding, y: (act ? y : dy).savedBinding,
        dx: dx.binding, dweight: dweight.binding, dbias: dbias.binding,
      },
      { P: planesPerGroup, C, N, L, hasWeight: weight ? 1 : 0, slope },
      { consts: { ACT: act, X: x.dtype, Y: act ? storage : 'f32' }, reduction, groups: grid1d(C, 1) },
    );
    const grads: (Tensor | null)[] = [keepIf(dx, x.requiresGrad)];
    if (weight) grads.push(keepIf(dweight, weight.requiresGrad));
    else dweight.dispose();
    if (bias) grads.push(keepIf(dbias, bias.requiresGrad));
    else dbias.dispose();
    if (residual) grads.push(residual.requiresGrad ? dy.detach() : null);
    return grads;
  });
  // The tape holds its own reference to the statistics while the graph lives.
  stats.dispose();
  return out;
}

const APPLY = defineKernel({
  shader: 'norm_apply',
  params: { n: 'u32', C: 'u32', L: 'u32' },
  bindings: { x: 'read', stats: 'read', y: 'read_write' },
  entry: 'elementwise',
});

/** Instance normalisation of x [N, C, H, W] with given statistics [mean[0..C), rstd[0..C)]; inference only (not
 * recorded): whole-image statistics when an image is corrected tile by tile. */
export function normalizeWithStats(x: Tensor, stats: Tensor): Tensor {
  rank('normalizeWithStats', x, 4);
  const [, C, H, W] = x.shape;
  if (stats.size !== 2 * C) throw new Error(`normalizeWithStats: statistics for ${stats.size / 2} channels given, input ${x.describe()} has ${C}`);
  const y = Tensor.empty(x.shape);
  rt().dispatch(APPLY, { x: x.binding, stats: stats.binding, y: y.binding }, { n: x.size, C, L: H * W });
  return y;
}

function keepIf(t: Tensor, wanted: boolean): Tensor | null {
  if (wanted) return t;
  t.dispose();
  return null;
}
