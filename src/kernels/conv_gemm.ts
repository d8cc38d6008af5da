// Buffer-level dispatch of the three convolution GEMMs shared by conv2d and convTranspose2d: the direct gather
// (conv forward = transposed-conv input gradient), the phase-aligned gather (transposed-conv forward = conv input
// gradient), and the weight gradient; plus the per-channel bias gradient.
import { Tensor } from '../graph/tensor.js';
import { rt, packParams } from '../graph/runtime.js';

const MAX_GROUPS = 65535;
const INVOCATIONS_PER_GROUP = 64;

/** Register-tile shape: outputs per invocation (channels × pixels or taps). Benchmarks compare variants. */
export interface ConvTiling { tm: number; tn: number }
// 8×16 was fastest for conv forward and transposed conv on lavapipe (bench/conv2d.ts).
let tiling: ConvTiling = { tm: 8, tn: 16 };

export function convTiling(): ConvTiling {
  return tiling;
}

export function setConvTiling(t: ConvTiling): void {
  tiling = { ...t };
}

/** Geometry in the direction of the direct convolution: x [N,Cin,H,W] → y [N,Cout,OH,OW] with kernel KH×KW. */
export interface ConvGeometry {
  N: number; Cin: number; H: number; W: number; Cout: number; OH: number; OW: number;
  KH: number; KW: number; stride: number; pad: number;
}

/** Work items along x (pixel tiles) and y (channel tiles), folded into z past the per-dimension limit. */
function launch(shader: string, tiles: number, channelTiles: number, tm: number, tn: number, buffers: GPUBuffer[], params: ArrayBuffer, tqName = 'TN'): void {
  const wgy = Math.min(8, 2 ** Math.ceil(Math.log2(channelTiles)));
  const wgx = INVOCATIONS_PER_GROUP / wgy;
  let gx = Math.ceil(tiles / wgx);
  const gz = Math.ceil(gx / MAX_GROUPS);
  gx = Math.ceil(gx / gz);
  const r = rt();
  const pipeline = r.pipeline(shader, { TM: tm, [tqName]: tn, WGX: wgx, WGY: wgy });
  r.dispatch(pipeline, buffers, params, [gx, Math.ceil(channelTiles / wgy), gz]);
}

/** Fewer channel rows than the tile wastes work on tiny layers (e.g. the 3-channel output conv). */
function channelTile(channels: number): number {
  return Math.min(tiling.tm, 2 ** Math.ceil(Math.log2(channels)));
}

/** Likewise for narrow rows (the 8×8 maps of small crops). */
function pixelTile(width: number): number {
  return Math.min(tiling.tn, 2 ** Math.ceil(Math.log2(width)));
}

/** y = conv(x, w) (+ b): w [Cout, Cin, KH, KW]. */
export function gatherConv(g: ConvGeometry, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, y: Tensor): void {
  const tm = channelTile(g.Cout);
  const tn = pixelTile(g.OW);
  const tilesX = Math.ceil(g.OW / tn);
  const params = packParams([g.N, g.Cin, g.H, g.W, g.Cout, g.OH, g.OW, g.KH, g.KW, g.stride, g.pad, tilesX, b ? 1 : 0]);
  launch('conv2d', g.N * g.OH * tilesX, Math.ceil(g.Cout / tm), tm, tn, [x, w, b ?? w, y.buffer], params);
}

/** y = convTranspose(x, w) (+ b) with w [Cin, Cout, KH, KW]; here x is the small side [N,Cin,H,W], y [N,Cout,OH,OW]. */
export function scatterConv(g: ConvGeometry, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, y: Tensor): void {
  const tm = channelTile(g.Cout);
  const tn = pixelTile(Math.ceil(g.OW / g.stride));
  const tilesPerPhase = Math.ceil(Math.ceil(g.OW / g.stride) / tn);
  const params = packParams([g.N, g.Cin, g.H, g.W, g.Cout, g.OH, g.OW, g.KH, g.KW, g.stride, g.pad, tilesPerPhase, b ? 1 : 0]);
  launch('conv_transpose2d', g.N * g.OH * tilesPerPhase * g.stride, Math.ceil(g.Cout / tm), tm, tn, [x, w, b ?? w, y.buffer], params);
}

/** dw [Cout, Cin, KH, KW] of the direct convolution x [N,Cin,H,W] → dy [N,Cout,OH,OW]. */
export function weightGrad(g: ConvGeometry, x: GPUBuffer, dy: GPUBuffer): Tensor {
  const dw = Tensor.empty([g.Cout, g.Cin, g.KH, g.KW]);
  const tm = channelTile(g.Cout);
  const tq = tiling.tn;
  const params = packParams([g.N, g.Cin, g.H, g.W, g.Cout, g.OH, g.OW, g.KH, g.KW, g.stride, g.pad]);
  const taps = g.Cin * g.KH * g.KW;
  launch('conv2d_weight_grad', Math.ceil(taps / tq), Math.ceil(g.Cout / tm), tm, tq, [x, dy, dw.buffer], params, 'TQ');
  return dw;
}

/** db [C] = Σ over batch and pixels of dy [N, C, H, W]. */
export function biasGrad(dy: Tensor): Tensor {
  const [N, C, H, W] = dy.shape;
  const db = Tensor.empty([C]);
  const r = rt();
  r.dispatch(r.pipeline('conv_bias_grad'), [dy.savedBuffer, db.buffer], packParams([N, C, H * W]), [C, 1, 1]);
  return db;
}
