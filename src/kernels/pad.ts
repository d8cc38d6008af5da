// Spatial padding of NCHW tensors: reflection (mirror without repeating the edge, PyTorch ReflectionPad2d) and zeros.
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { rank, nonNegativeInt } from './check.js';

const FORWARD = defineKernel({
  shader: 'pad',
  params: { H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', left: 'u32', top: 'u32', n: 'u32' },
  bindings: { x: 'read', y: 'read_write' },
  consts: { REFLECT: 'bool' },
  includes: ['reflect'],
  entry: 'elementwise',
});
const BACKWARD = defineKernel({
  shader: 'pad_backward',
  params: { H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', left: 'u32', top: 'u32', right: 'u32', bottom: 'u32', n: 'u32', splits: 'u32' },
  bindings: { dy: 'read', dx: 'read_write' },
  consts: { REFLECT: 'bool', ACC: 'bool' },
  includes: ['reflect'],
  entry: 'elementwise',
});

/** One size for all four sides, or [left, right, top, bottom] (PyTorch's order). */
export type Pad2d = number | readonly [number, number, number, number];

function padSides(op: string, pad: Pad2d): [number, number, number, number] {
  const sides = typeof pad === 'number' ? [pad, pad, pad, pad] : pad;
  if (!Array.isArray(sides) || sides.length !== 4) {
    throw new Error(`${op}: pad must be a number or [left, right, top, bottom], got ${JSON.stringify(pad)}`);
  }
  ['left', 'right', 'top', 'bottom'].forEach((name, i) => nonNegativeInt(op, `pad ${name}`, sides[i]));
  return sides as [number, number, number, number];
}

/** Throws unless every reflection pad is smaller than the dimension it extends. */
export function checkReflection(op: string, x: Tensor, [left, right, top, bottom]: readonly number[]): void {
  const [, , H, W] = x.shape;
  const bad = ([['left', left, W, 'width'], ['right', right, W, 'width'], ['top', top, H, 'height'], ['bottom', bottom, H, 'height']] as const)
    .find(([, v, dim]) => v >= dim);
  if (bad) {
    throw new Error(`${op}: padding must be less than the input ${bad[3]} ${bad[2]}, got pad ${bad[0]} ${bad[1]} for input ${x.describe()}`);
  }
}

/** The gradient of x [N, C, H, W] from that of its padded copy dy (each element sums every position that copied it),
 * added to `into` (an earlier gradient of x) when given. */
export function unpad2d(dy: Tensor, shape: readonly number[], sides: readonly number[], reflect: boolean, into: Tensor | null = null): Tensor {
  const dx = into ?? Tensor.empty(shape);
  unpadSlices(dy.savedBinding, dx.binding, shape, dy.shape.slice(2), sides, reflect, into !== null);
  return dx;
}

/** Buffer level: dx [N, C, H, W] (+)= the gradient of x from `splits` slices [splits, N, C, OH, OW] of its padded
 * copy's gradient, summed in order (a convolution's input gradient computed over the padded grid, split-K). */
export function unpadSlices(dy: GPUBufferBinding, dx: GPUBufferBinding, shape: readonly number[], [OH, OW]: readonly number[], [left, right, top, bottom]: readonly number[], reflect: boolean, acc: boolean, splits = 1): void {
  const [N, C, H, W] = shape;
  const consts = { REFLECT: reflect, ACC: acc };
  rt().dispatch(BACKWARD, { dy, dx }, { H, W, OH, OW, left, top, right, bottom, n: N * C * H * W, splits }, { consts });
}

function pad2d(op: string, reflect: boolean, x: Tensor, pad: Pad2d): Tensor {
  rank(op, x, 4);
  const sides = padSides(op, pad);
  const [left, right, top, bottom] = sides;
  const [N, C, H, W] = x.shape;
  if (reflect) checkReflection(op, x, sides);
  const OH = H + top + bottom;
  const OW = W + left + right;
  const y = Tensor.empty([N, C, OH, OW]);
  rt().dispatch(FORWARD, { x: x.binding, y: y.binding }, { H, W, OH, OW, left, top, n: y.size }, { consts: { REFLECT: reflect } });
  return record(op, [x], y, [], (dy, into) => [unpad2d(dy, x.shape, sides, reflect, into[0])]);
}

/** Mirror padding of each H×W plane; every pad must be smaller than the dimension it extends. */
export function reflectionPad2d(x: Tensor, pad: Pad2d): Tensor {
  return pad2d('reflectionPad2d', true, x, pad);
}

/** Zero padding of each H×W plane. */
export function zeroPad2d(x: Tensor, pad: Pad2d): Tensor {
  return pad2d('zeroPad2d', false, x, pad);
}
