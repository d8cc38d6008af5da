// Shared driver of instance_norm and batch_norm: both normalise groups of NCHW planes by (mean, rstd) with an
// optional per-channel affine map, and differ only in which planes form a group (one (n, c) plane, or all N
// planes of channel c): norm.wgsl and norm_backward.wgsl take the group shape as a parameter. Both can
// fuse the activation that follows them (CycleGAN's norm → ReLU / leaky ReLU) or a residual add (x + IN(…) of a
// ResNet block), saving a pass over the tensor and a dispatch each way.
import { Tensor } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';
import { record } from '../autograd/tape.js';
import { rank, vectorOfLength, sameShape } from './check.js';
import { reductionConsts } from './autotune.js';

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
  /** Added after the normalisation (not combinable with an activation): y = norm(x) + residual. */
  residual?: Tensor;
}

const ACTIVATIONS = { relu: 1, leakyRelu: 2 } as const;

export function normalize(op: 'instance_norm' | 'batch_norm', x: Tensor, opts: NormOptions = {}): Tensor {
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

  const r = rt();
  const reduce = reductionConsts();
  const groups = op === 'instance_norm' ? N * C : C;
  const y = Tensor.empty(x.shape);
  const stats = Tensor.empty([groups, 2]);
  // A missing weight, bias or residual is never read (flags and constants); x stands in so the binding is valid.
  const planesPerGroup = op === 'instance_norm' ? 1 : N;
  r.dispatch(
    r.pipeline('norm', { ...reduce, ACT: act, RES: residual ? 1 : 0 }),
    [x.buffer, (weight ?? x).buffer, (bias ?? x).buffer, (residual ?? x).buffer, y.buffer, stats.buffer],
    packParams([planesPerGroup, C, groups, L, weight ? 1 : 0, bias ? 1 : 0], [eps, slope]),
    grid1d(groups, 1),
  );

  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  // The activation's derivative is read from the output: ReLU and leaky ReLU keep the sign.
  const saved = [x, stats, ...(weight ? [weight] : []), ...(act ? [y] : [])];
  const out = record(op, inputs, y, saved, (dy) => {
    const dx = Tensor.empty(x.shape);
    const dweight = Tensor.empty([C]);
    const dbias = Tensor.empty([C]);
    r.dispatch(
      r.pipeline('norm_backward', { ...reduce, ACT: act }),
      [x.savedBuffer, stats.savedBuffer, (weight ?? x).savedBuffer, dy.savedBuffer, (act ? y : dy).savedBuffer, dx.buffer, dweight.buffer, dbias.buffer],
      packParams([planesPerGroup, C, N, L, weight ? 1 : 0], [slope]),
      grid1d(C, 1),
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

function keepIf(t: Tensor, wanted: boolean): Tensor | null {
  if (wanted) return t;
  t.dispose();
  return null;
}
