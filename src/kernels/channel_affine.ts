// Per-channel affine map with channel selection, y[:, c] = scale[c] · x[:, src[c]] + shift[c]: one pass for image
// preprocessing (grayscale → 3 channels, RGB → BGR, range and mean/std normalisation). Gradients flow to x only.
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { rank } from './check.js';

/** Output channels are limited to four: the parameters travel as vec4 uniforms, and images have at most four. */
const MAX_CHANNELS = 4;

const MAP = { n: 'u32', cin: 'u32', cout: 'u32', plane: 'u32', src: 'vec4u', scale: 'vec4f' } as const;
const FORWARD = defineKernel({ shader: 'channel_affine', params: { ...MAP, shift: 'vec4f' }, bindings: { x: 'read', y: 'read_write' }, entry: 'elementwise' });
const BACKWARD = defineKernel({ shader: 'channel_affine_backward', params: MAP, bindings: { dy: 'read', dx: 'read_write' }, entry: 'elementwise' });

/** x [N, Cin, H, W] → [N, src.length, H, W]; src[c] is the input channel that output channel c reads. */
export function channelAffine(x: Tensor, src: number[], scale: number[], shift: number[]): Tensor {
  const op = 'channelAffine';
  rank(op, x, 4);
  const [N, Cin, H, W] = x.shape;
  const C = src.length;
  if (C < 1 || C > MAX_CHANNELS) throw new Error(`${op}: 1 to ${MAX_CHANNELS} output channels, got ${C}`);
  if (scale.length !== C || shift.length !== C) {
    throw new Error(`${op}: src, scale and shift need one entry per output channel, got ${C}, ${scale.length} and ${shift.length}`);
  }
  const badSrc = src.find((s) => !Number.isInteger(s) || s < 0 || s >= Cin);
  if (badSrc !== undefined) throw new Error(`${op}: src entries must be input channels 0…${Cin - 1} of ${x.describe()}, got ${badSrc}`);
  if (![...scale, ...shift].every(Number.isFinite)) throw new Error(`${op}: scale and shift must be finite numbers`);
  const pad = (v: number[]) => [...v, ...new Array(MAX_CHANNELS - C).fill(0)];
  const plane = H * W;
  const map = (n: number) => ({ n, cin: Cin, cout: C, plane, src: pad(src), scale: pad(scale) });
  const y = Tensor.empty([N, C, H, W]);
  const r = rt();
  r.dispatch(FORWARD, { x: x.binding, y: y.binding }, { ...map(y.size), shift: pad(shift) });
  return record(op, [x], y, [], (dy) => {
    const dx = Tensor.empty(x.shape);
    r.dispatch(BACKWARD, { dy: dy.savedBinding, dx: dx.binding }, map(dx.size));
    return [dx];
  });
}
