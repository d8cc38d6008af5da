// Mean-reduced losses against a tensor or a constant target: one elementwise pass (shaders/losses.wgsl), then the
// shared sum reduction; backward writes each needed gradient in one pass (shaders/losses_backward.wgsl).
import { Tensor } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';
import { record } from '../autograd/tape.js';
import { live, sameShape } from './check.js';
import { sumAll } from './reduce.js';

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
  const elems = Tensor.empty(x.shape);
  r.dispatch(
    r.pipeline('losses', { EXPR: def.value, TARGET: targetExpr }),
    t ? [x.buffer, elems.buffer, t.buffer] : [x.buffer, elems.buffer],
    packParams([n], [constant]),
    grid1d(n),
  );
  const out = sumAll(elems, 1 / n);
  elems.dispose();
  const inputs = t ? [x, t] : [x];
  return record(op, inputs, out, inputs, (g) => {
    const grad = (expr: string): Tensor => {
      const d = Tensor.empty(x.shape);
      const buffers = [g.savedBuffer, x.savedBuffer, d.buffer];
      if (t) buffers.push(t.savedBuffer);
      r.dispatch(r.pipeline('losses_backward', { EXPR: expr, TARGET: targetExpr }), buffers, packParams([n], [constant, 1 / n]), grid1d(n));
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
