// Pointwise activations declared once as forward + backward WGSL expressions (the webgpu-torch idea): one
// template shader each way, specialised per op.
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { live } from './check.js';

interface UnaryDef {
  forward: string;
  /** In g (= dy) and v, where v is what the op saves: its input x or its output y. */
  backward: string;
  saves: 'input' | 'output' | 'none';
}

const UNARY: Record<string, UnaryDef> = {
  relu: { forward: 'max(x, 0.0)', backward: 'select(0.0, g, v > 0.0)', saves: 'input' },
  leaky_relu: { forward: 'select(x * p.alpha, x, x > 0.0)', backward: 'select(g * p.alpha, g, v > 0.0)', saves: 'input' },
  // tanh(±15) is ±1 in f32; clamping avoids exp overflow inside some tanh implementations.
  tanh: { forward: 'tanh(clamp(x, -15.0, 15.0))', backward: 'g * (1.0 - v * v)', saves: 'output' },
  // Written with exp(-|x|) so neither branch overflows.
  sigmoid: {
    forward: 'select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0)',
    backward: 'g * v * (1.0 - v)',
    saves: 'output',
  },
  scale: { forward: 'x * p.alpha', backward: 'g * p.alpha', saves: 'none' },
};

const FORWARD = defineKernel({
  shader: 'unary',
  params: { n: 'u32', alpha: 'f32' },
  bindings: { input: 'read', out: 'read_write' },
  consts: { EXPR: 'code' },
  entry: 'elementwise',
});
const BACKWARD = defineKernel({
  shader: 'unary_backward',
  params: { n: 'u32', alpha: 'f32' },
  bindings: { saved: 'read', gradOut: 'read', gradIn: 'read_write' },
  consts: { EXPR: 'code' },
  entry: 'elementwise',
});

function unary(op: keyof typeof UNARY, x: Tensor, alpha = 0): Tensor {
  live(op, x);
  const def = UNARY[op];
  const y = Tensor.empty(x.shape);
  rt().dispatch(FORWARD, { input: x.binding, out: y.binding }, { n: x.size, alpha }, { consts: { EXPR: def.forward } });
  const saved = def.saves === 'output' ? y : x;
  return record(op, [x], y, def.saves === 'none' ? [] : [saved], (g) => {
    const dx = Tensor.empty(x.shape);
    // 'none' binds g twice as read-only input; the expression ignores v.
    rt().dispatch(
      BACKWARD,
      { saved: (def.saves === 'none' ? g : saved).savedBinding, gradOut: g.savedBinding, gradIn: dx.binding },
      { n: x.size, alpha },
      { consts: { EXPR: def.backward } },
    );
    return [dx];
  });
}

export const relu = (x: Tensor): Tensor => unary('relu', x);
export const leakyRelu = (x: Tensor, slope = 0.2): Tensor => unary('leaky_relu', x, slope);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const scale = (x: Tensor, factor: number): Tensor => unary('scale', x, factor);
