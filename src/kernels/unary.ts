// Pointwise activations declared once as forward + backward WGSL expressions (the webgpu-torch idea): one
// template shader each way, specialised per op.
import { Tensor } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';
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

function run(shader: 'unary' | 'unary_backward', expr: string, buffers: GPUBuffer[], n: number, alpha: number): void {
  const r = rt();
  r.dispatch(r.pipeline(shader, { EXPR: expr }), buffers, packParams([n], [alpha]), grid1d(n));
}

function unary(op: keyof typeof UNARY, x: Tensor, alpha = 0): Tensor {
  live(op, x);
  const def = UNARY[op];
  const y = Tensor.empty(x.shape);
  run('unary', def.forward, [x.buffer, y.buffer], x.size, alpha);
  const saved = def.saves === 'output' ? y : x;
  return record(op, [x], y, def.saves === 'none' ? [] : [saved], (g) => {
    const dx = Tensor.empty(x.shape);
    // 'none' binds g twice as read-only input; the expression ignores v.
    run('unary_backward', def.backward, [(def.saves === 'none' ? g : saved).savedBuffer, g.savedBuffer, dx.buffer], x.size, alpha);
    return [dx];
  });
}

export const relu = (x: Tensor): Tensor => unary('relu', x);
export const leakyRelu = (x: Tensor, slope = 0.2): Tensor => unary('leaky_relu', x, slope);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const scale = (x: Tensor, factor: number): Tensor => unary('scale', x, factor);
