// Shared driver of instance_norm and batch_norm: both normalise groups of NCHW planes by (mean, rstd) with an
// optional per-channel affine map, and differ only in which planes form a group (one (n, c) plane, or all N
// planes of channel c); each has its own forward and backward shader.
import { Tensor } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';
import { record } from '../autograd/tape.js';
import { rank, vectorOfLength } from './check.js';

export interface NormOptions {
  /** Added to the variance; default 1e-5 (PyTorch). */
  eps?: number;
  /** Per-channel scale [C] (PyTorch's affine weight). */
  weight?: Tensor;
  /** Per-channel shift [C]. */
  bias?: Tensor;
}

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

  const r = rt();
  const y = Tensor.empty(x.shape);
  const stats = Tensor.empty([op === 'instance_norm' ? N * C : C, 2]);
  // A missing weight or bias is never read (flag 0); x stands in so the binding is valid.
  const params = packParams([N, C, L, weight ? 1 : 0, bias ? 1 : 0], [eps]);
  r.dispatch(r.pipeline(op), [x.buffer, (weight ?? x).buffer, (bias ?? x).buffer, y.buffer, stats.buffer], params, grid1d(stats.shape[0], 1));

  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const out = record(op, inputs, y, [x, stats, ...(weight ? [weight] : [])], (dy) => {
    const dx = Tensor.empty(x.shape);
    const dweight = Tensor.empty([C]);
    const dbias = Tensor.empty([C]);
    const bwd = r.pipeline(`${op}_backward`);
    r.dispatch(bwd, [x.savedBuffer, stats.savedBuffer, (weight ?? x).savedBuffer, dy.savedBuffer, dx.buffer, dweight.buffer, dbias.buffer],
      packParams([N, C, L, weight ? 1 : 0]), grid1d(C, 1));
    const grads: (Tensor | null)[] = [keepIf(dx, x.requiresGrad)];
    if (weight) grads.push(keepIf(dweight, weight.requiresGrad));
    else dweight.dispose();
    if (bias) grads.push(keepIf(dbias, bias.requiresGrad));
    else dbias.dispose();
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
