// Mean-reduced losses against a tensor or a constant target: the per-element loss summed in the same pass
// (shaders/losses.wgsl; a large input's partial sums then added by the shared sum reduction); backward writes each
// needed gradient in one pass (shaders/losses_backward.wgsl).
import { Tensor } from '../graph/tensor.js';
import { rt, grid1d } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { live, sameShape } from './check.js';
import { segmentSum, sumSegments, FULL_SUM_REDUCTION } from './reduce.js';

interface LossDef {
  /** Per-element loss in x and t. */
  value: string;
  /** d/dx and d/dt, in x, t and s = upstream gradient / n. */
  dx: string;
  dt: string;
}

const LOSSES: Record<string, LossDef> = {
  mseLoss: { value: '(x - t) * (x - t)', dx: '2.0 * (x - t) * s', dt: '-2.0 * (x - t) * s' },
  // WGSL's sign(0) is 0, as PyTorch's gradient of |x| at 0.
  l1Loss: { value: 'abs(x - t)', dx: 'sign(x - t) * s', dt: '-sign(x - t) * s' },
  // Stable form: exp only ever sees −|x|; the sigmoid is select(e^-|x|, 1, x ≥ 0) / (1 + e^-|x|).
  bceWithLogitsLoss: {
    value: 'max(x, 0.0) - x * t + log(1.0 + exp(-abs(x)))',
    dx: '(select(exp(-abs(x)), 1.0, x >= 0.0) / (1.0 + exp(-abs(x))) - t) * s',
    dt: '-x * s',
  },
};

// A constant target leaves tgt unused and unbound (no tensor upload per call).
const TGT = { access: 'read', optional: true } as const;
const FORWARD = defineKernel({
  shader: 'losses',
  params: { n: 'u32', len: 'u32', segments: 'u32', alpha: 'f32', constTarget: 'f32' },
  bindings: { input: 'read', out: 'read_write', tgt: TGT },
  consts: { EXPR: 'code', TARGET: 'code' },
  entry: ['lid', 'wid', 'nwg'],
  includes: ['segment_total'],
  reduction: 'f32',
});
const BACKWARD = defineKernel({
  shader: 'losses_backward',
  params: { n: 'u32', constTarget: 'f32', invN: 'f32' },
  bindings: { g: 'read', input: 'read', out: 'read_write', tgt: TGT },
  consts: { EXPR: 'code', TARGET: 'code' },
  entry: 'elementwise',
});

function loss(op: string, x: Tensor, target: Tensor | number): Tensor {
  const def = LOSSES[op];
  let t: Tensor | null = null;
  if (typeof target === 'number') {
    live(op, x);
    if (!Number.isFinite(target)) throw new Error(`${op}: target must be a Tensor or a finite number, got ${target}`);
  } else {
    sameShape(op, x, target);
    t = target;
  }
  const constant = t ? 0 : (target as number);
  const targetExpr = t ? 'tgt[i]' : 'p.constTarget';
  const n = x.size;
  const r = rt();
  const { len, segments } = sumSegments(n);
  const sums = Tensor.empty([segments]);
  r.dispatch(FORWARD, { input: x.binding, out: sums.binding, tgt: t?.binding }, { n, len, segments, alpha: segments === 1 ? 1 / n : 1, constTarget: constant }, {
    consts: { EXPR: def.value, TARGET: targetExpr },
    groups: grid1d(segments, 1),
    reduction: FULL_SUM_REDUCTION,
  });
  let out = sums;
  if (segments > 1) {
    out = segmentSum(sums.binding, segments, 1, 1 / n);
    sums.dispose();
  }
  const inputs = t ? [x, t] : [x];
  return record(op, inputs, out, inputs, (g) => {
    const grad = (expr: string): Tensor => {
      const d = Tensor.empty(x.shape);
      r.dispatch(BACKWARD, { g: g.savedBinding, input: x.savedBinding, out: d.binding, tgt: t?.savedBinding }, { n, constTarget: constant, invN: 1 / n }, {
        consts: { EXPR: expr, TARGET: targetExpr },
      });
      return d;
    };
    return [x.requiresGrad ? grad(def.dx) : null, ...(t ? [t.requiresGrad ? grad(def.dt) : null] : [])];
  });
}

/** mean((a − b)²); b a tensor of a's shape or a constant (e.g. the LSGAN labels 1 and 0). */
export const mseLoss = (a: Tensor, b: Tensor | number): Tensor => loss('mseLoss', a, b);
/** mean(|a − b|). */
export const l1Loss = (a: Tensor, b: Tensor | number): Tensor => loss('l1Loss', a, b);
/** mean(max(x, 0) − x·t + log(1 + e^−|x|)): binary cross-entropy of sigmoid(logits) against target. */
export const bceWithLogitsLoss = (logits: Tensor, target: Tensor | number): Tensor => loss('bceWithLogitsLoss', logits, target);
