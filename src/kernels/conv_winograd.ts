// Winograd F(2×2, 3×3) convolution (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks") for 3×3
// stride-1 layers: each 2×2 output tile costs 16 multiplies per channel pair instead of 36, so the three GEMMs of a
// layer (forward, input gradient, weight gradient) do 2.25× fewer multiply-adds than the direct kernels, for the
// price of transform passes over the maps. Transformed operands are 16 planes ξ: x's 4×4 patches Bᵀ d B [ξ][Cin][P],
// the filters G g Gᵀ [ξ][Cout][Cin], the products [ξ][Cout][P], P = N·⌈OH/2⌉·⌈OW/2⌉ tiles. The forward also comes as
// F(4×4, 3×3): 36 planes of 6×6 patches, 4× fewer multiply-adds than direct (fp32 error ~10× F(2×2)'s, still
// ~1e-5 of the largest value). Forwards too large for one binding run in bands of tile rows. A layer's two gradients
// can run together: their operands in one buffer, both GEMMs in one dispatch, both inverse transforms in another.
import { Tensor, alignedOffsets } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import type { ConvGeometry } from './conv_gemm.js';

/** The tiles (TH × TW per batch item) with the side a kernel reads or writes: x's, or y's. */
const INPUT_SIDE = { N: 'u32', Cin: 'u32', H: 'u32', W: 'u32', TH: 'u32', TW: 'u32', pad: 'u32' } as const;
const OUTPUT_SIDE = { N: 'u32', Cout: 'u32', OH: 'u32', OW: 'u32', TH: 'u32', TW: 'u32' } as const;

/** A forward's two operands, a band of x's transformed patches and (first band) the transformed filters. */
const FORWARD_OPERANDS = defineKernel({
  shader: 'conv_winograd_forward_operands',
  params: { ...INPUT_SIDE, ty0: 'u32', nXt: 'u32', nU: 'u32', n: 'u32' },
  bindings: { x: { access: 'read', type: 'array<X>' }, w: 'read', xt: 'read_write', u: 'read_write' },
  consts: { REFLECT: 'bool', TRANSPOSE: 'bool', X: 'float' },
  includes: ['reflect', 'winograd_tile', 'winograd_patch', 'winograd_input_transform', 'winograd_filter_transform'],
  entry: 'elementwise',
});
/** One set of GEMMs: shape, operand offsets (elements) and whether a is stored transposed. */
const GEMM_SET = { M: 'u32', N: 'u32', K: 'u32', aAt: 'u32', bAt: 'u32', cAt: 'u32', transA: 'u32' } as const;
const GEMM = defineKernel({
  shader: 'conv_winograd_gemm',
  params: { ...GEMM_SET, M2: 'u32', N2: 'u32', K2: 'u32', aAt2: 'u32', bAt2: 'u32', cAt2: 'u32', transA2: 'u32', planes: 'u32' },
  bindings: { a: 'read', b: 'read', c: 'read_write' },
  consts: { TM: 'u32', TN: 'u32', WG: 'u32' },
  includes: ['winograd_gemm_plane'],
  entry: ['gid', 'wid'],
  workgroup: 'WG',
});
/** The same GEMMs in workgroup-memory tiles (GPUs): RM×RN outputs per invocation, 16·RM × 16·RN per workgroup. */
const GEMM_TILED = defineKernel({
  shader: 'conv_winograd_gemm_tiled',
  params: GEMM.params,
  bindings: GEMM.bindings,
  consts: { RM: 'u32', RN: 'u32' },
  includes: ['workgroup_tile', 'winograd_gemm_plane'],
  entry: ['lid3', 'wid'],
  workgroup: [16, 16],
});
const OUTPUT = defineKernel({
  shader: 'conv_winograd_output',
  params: { ...OUTPUT_SIDE, ty0: 'u32', hasBias: 'u32', n: 'u32' },
  bindings: { m: 'read', b: 'read', y: { access: 'read_write', type: 'array<Y>' } },
  consts: { ACC: 'bool', Y: 'float' },
  includes: ['winograd_tile'],
  entry: 'elementwise',
});
/** F(4×4, 3×3), forward only: its operands and inverse transform (the GEMMs are the same kernel over 36 planes). */
const FORWARD4 = {
  operands: defineKernel({ ...FORWARD_OPERANDS, shader: 'conv_winograd4_forward_operands', includes: ['reflect', 'winograd_tile', 'winograd_patch', 'winograd4_transforms'] }),
  output: defineKernel({ ...OUTPUT, shader: 'conv_winograd4_output' }),
};

/** dm, x's transposed patches and the filters' transforms, any of them, in one dispatch (a gradient's operands). */
const GRAD_OPERANDS = defineKernel({
  shader: 'conv_winograd_grad_operands',
  params: { ...INPUT_SIDE, ...OUTPUT_SIDE, nDm: 'u32', nXt: 'u32', nU: 'u32', n: 'u32' },
  bindings: { dy: 'read', x: { access: 'read', type: 'array<X>' }, w: 'read', dm: 'read_write', xt: 'read_write', u: 'read_write' },
  consts: { REFLECT: 'bool', TRANSPOSE: 'bool', X: 'float' },
  includes: ['reflect', 'winograd_tile', 'winograd_patch', 'winograd_input_transform', 'winograd_grad_output_transform', 'winograd_filter_transform'],
  entry: 'elementwise',
});
const INPUT_GRAD = defineKernel({
  shader: 'conv_winograd_input_grad',
  params: { ...INPUT_SIDE, n: 'u32' },
  bindings: { dv: 'read', dx: 'read_write' },
  consts: { REFLECT: 'bool', ACC: 'bool' },
  includes: ['reflect', 'winograd_tile', 'winograd_input_grad_element'],
  entry: 'elementwise',
});
const FILTER_GRAD_BINDINGS = { du: 'read', dw: 'read_write', dm: 'read', db: 'read_write' } as const;
const FILTER_GRAD = defineKernel({
  shader: 'conv_winograd_filter_grad',
  params: { n: 'u32', Cin: 'u32', P: 'u32' },
  bindings: FILTER_GRAD_BINDINGS,
  consts: { ACC: 'bool', BIAS: 'bool' },
  includes: ['winograd_filter_grad_element'],
  entry: 'elementwise',
});
/** Both gradients' inverse transforms in one dispatch. */
const GRADIENTS = defineKernel({
  shader: 'conv_winograd_gradients',
  params: { ...INPUT_SIDE, nDx: 'u32', nW: 'u32', P: 'u32', n: 'u32' },
  bindings: { dv: 'read', dx: 'read_write', ...FILTER_GRAD_BINDINGS },
  consts: { REFLECT: 'bool', ACC_X: 'bool', ACC_W: 'bool', BIAS: 'bool' },
  includes: ['reflect', 'winograd_tile', 'winograd_input_grad_element', 'winograd_filter_grad_element'],
  entry: 'elementwise',
});
/** F(4×4, 3×3) gradients, together only: their operands in one dispatch, their inverse transforms in another. */
const GRADIENTS4 = {
  operands: defineKernel({ ...GRAD_OPERANDS, shader: 'conv_winograd4_grad_operands', includes: ['reflect', 'winograd_tile', 'winograd_patch', 'winograd_grad_output_transform', 'winograd4_transforms'] }),
  inverse: defineKernel({ ...GRADIENTS, shader: 'conv_winograd4_gradients', includes: ['reflect', 'winograd_tile'] }),
};

/** Register tile of the GEMMs: TM rows × TN columns per invocation, WG invocations per workgroup; with `tiledGemm`
 * the GEMMs run in workgroup-memory tiles instead (TM, TN in {4, 8}; 256 invocations). `m`: the output tile, 2
 * (default) or 4 (F(4×4, 3×3): forwards, and a layer's two gradients together). */
export interface WinogradTiling { tm: number; tn: number; wg: number; m?: 2 | 4; tiledGemm?: boolean }

/** The X constant (x's storage) of the kernels that read x, and Y (y's) of those that write a forward's y. */
export const xStorage = (g: ConvGeometry) => (g.xF16 ? 'f16' : 'f32');
export const yStorage = (g: ConvGeometry) => (g.yF16 ? 'f16' : 'f32');

/** Planes of F(m×m, 3×3): one per element of an (m + 2)² patch. */
const planes = (m: number) => (m + 2) ** 2;

let forcedLimit: number | null = null;

/** Tests: a smaller operand limit (bytes; null: the adapter's), so that small maps run in bands. */
export function setWinogradOperandLimit(bytes: number | null): void {
  forcedLimit = bytes;
}

/** The most bytes one transformed operand may take: half the adapter's largest binding (correction's tile planner
 * keeps its widest map within a binding, src/correct/tiling.ts). */
function operandLimit(): number {
  if (forcedLimit !== null) return forcedLimit;
  const { limits } = rt().gpu;
  return Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / 2;
}

/** Bytes of one row of tiles of g's largest transformed operand. */
function tileRowBytes(g: ConvGeometry, m: number): number {
  return planes(m) * Math.max(g.Cin, g.Cout) * g.N * Math.ceil(g.OW / m) * 4;
}

/** Whether g is a convolution this file computes: 3×3, stride 1, padding at most 1, and transformed operands within
 * operandLimit — `banded` (forwards) per band of tile rows, so only one row need fit; otherwise (gradients) the
 * whole map's, so a full-resolution layer of a large tile stays direct there. */
export function winogradApplies(g: ConvGeometry, m = 2, banded = false): boolean {
  if (g.KH !== 3 || g.KW !== 3 || g.stride !== 1 || g.pad > 1) return false;
  return (banded ? 1 : Math.ceil(g.OH / m)) * tileRowBytes(g, m) <= operandLimit();
}

/** The tile grid of TH rows (default all: ⌈OH/m⌉) × TW per batch item, from each side. */
function tileGeometry(g: ConvGeometry, m = 2, TH = Math.ceil(g.OH / m)) {
  const TW = Math.ceil(g.OW / m);
  return {
    input: { N: g.N, Cin: g.Cin, H: g.H, W: g.W, TH, TW, pad: g.pad },
    output: { N: g.N, Cout: g.Cout, OH: g.OH, OW: g.OW, TH, TW },
    P: g.N * TH * TW,
  };
}

/** A set of GEMMs: c = a·b (a transposed with transA), each operand at an element offset of its binding. */
interface GemmSet { M: number; N: number; K: number; aAt: number; bAt: number; cAt: number; transA: boolean }

const gemmParams = (g: GemmSet) => ({ M: g.M, N: g.N, K: g.K, aAt: g.aAt, bAt: g.bAt, cAt: g.cAt, transA: g.transA ? 1 : 0 });

/** The GEMMs of every plane (16, or F(4×4)'s 36) of `first`, and with `second` 16 more of that set in the same
 * dispatch (TM at most the smaller M). */
function gemmDispatch(t: WinogradTiling, a: GPUBufferBinding, b: GPUBufferBinding, c: GPUBufferBinding, first: GemmSet, count = 16, second?: GemmSet): void {
  const sets = second ? [first, second] : [first];
  const p2 = gemmParams(second ?? first);
  const params = { ...gemmParams(first), M2: p2.M, N2: p2.N, K2: p2.K, aAt2: p2.aAt, bAt2: p2.bAt, cAt2: p2.cAt, transA2: p2.transA, planes: count };
  if (t.tiledGemm) {
    const [bm, bn] = [16 * t.tm, 16 * t.tn];
    rt().dispatch(GEMM_TILED, { a, b, c }, params, {
      consts: { RM: t.tm, RN: t.tn },
      groups: [Math.max(...sets.map((g) => Math.ceil(g.N / bn))), Math.max(...sets.map((g) => Math.ceil(g.M / bm))), count * sets.length],
    });
    return;
  }
  const tm = Math.min(t.tm, ...sets.map((g) => g.M));
  rt().dispatch(GEMM, { a, b, c }, params, {
    consts: { TM: tm, TN: t.tn, WG: t.wg },
    groups: [Math.max(...sets.map((g) => Math.ceil(Math.ceil(g.N / t.tn) / t.wg))), Math.max(...sets.map((g) => Math.ceil(g.M / tm))), count * sets.length],
  });
}

/** The GEMMs of every plane of c = a·b (a stored [K, M] with transA), whole bindings. */
function gemm(t: WinogradTiling, a: GPUBufferBinding, b: GPUBufferBinding, c: GPUBufferBinding, M: number, N: number, K: number, transA = false, count = 16): void {
  gemmDispatch(t, a, b, c, { M, N, K, aAt: 0, bAt: 0, cAt: 0, transA }, count);
}

/** The patches of x transformed into xt [planes, Cin, P] (a forward's operand), `rows` tile rows from row ty0
 * (P = N·rows·TW), and with `filters` also w's transforms into u [planes, Cout, Cin], in one dispatch. */
function forwardOperands(g: ConvGeometry, x: GPUBufferBinding, w: GPUBufferBinding, xt: GPUBufferBinding, u: GPUBufferBinding, m: number, ty0: number, rows: number, filters: boolean): void {
  const { input, P } = tileGeometry(g, m, rows);
  const [nXt, nU] = [g.Cin * P, filters ? g.Cout * g.Cin : 0];
  const params = { ...input, ty0, nXt, nU, n: nXt + nU };
  const X = xStorage(g);
  rt().dispatch(m === 4 ? FORWARD4.operands : FORWARD_OPERANDS, { x, w, xt, u }, params, { consts: { REFLECT: !!g.reflect, TRANSPOSE: false, X } });
}

/** The transformed operands of a layer's gradients (F(2×2)): A dy Aᵀ [16, Cout, P] (both read it), x's patches
 * transposed [16, P, Cin] (the weight gradient's) and G w Gᵀ [16, Cout, Cin] (the input gradient's), each made at most
 * once and kept until dispose(). `plan` names x and w where the other gradient will be Winograd's too: the first
 * operands asked for then bring its operands along, in the same dispatch. */
export class WinogradShared {
  gradOutput: Tensor | null = null;
  input: Tensor | null = null;
  filter: Tensor | null = null;
  /** The buffers the operands are slices of: those made together share one. */
  private arenas: Tensor[] = [];

  constructor(readonly plan: { x: GPUBufferBinding | null; w: GPUBufferBinding | null } = { x: null, w: null }) {}

  /** dm, with `x` its transposed patches, with `w` its filters' transforms: those not made yet in one dispatch. */
  operands(g: ConvGeometry, dy: GPUBufferBinding, want: { x?: GPUBufferBinding; w?: GPUBufferBinding }): { dm: Tensor; xt: Tensor | null; u: Tensor | null } {
    const x = want.x ?? this.plan.x;
    const w = want.w ?? this.plan.w;
    const { input, output, P } = tileGeometry(g);
    const nDm = this.gradOutput ? 0 : g.Cout * P;
    const nXt = x && !this.input ? g.Cin * P : 0;
    const nU = w && !this.filter ? g.Cout * g.Cin : 0;
    if (nDm + nXt + nU > 0) {
      const made = this.allocate([nDm ? [16, g.Cout, P] : 0, nXt ? [16, P, g.Cin] : 0, nU ? [16, g.Cout, g.Cin] : 0]);
      this.gradOutput ??= made[0];
      if (nXt) this.input = made[1];
      if (nU) this.filter = made[2];
      // Transforms skipped write nowhere, but their bindings need buffers of their own (writable bindings may not alias).
      const idle = [nDm, nXt, nU].filter((c) => c === 0).map(() => Tensor.empty([1]));
      const out = (count: number, t: Tensor | null) => (count ? t! : idle.pop()!).binding;
      rt().dispatch(
        GRAD_OPERANDS,
        { dy, x: x ?? dy, w: w ?? dy, dm: out(nDm, this.gradOutput), xt: out(nXt, this.input), u: out(nU, this.filter) },
        { ...input, ...output, nDm, nXt, nU, n: nDm + nXt + nU },
        { consts: { REFLECT: !!g.reflect, TRANSPOSE: true, X: xStorage(g) } },
      );
      idle.forEach((t) => t.dispose());
    }
    return { dm: this.gradOutput!, xt: want.x ? this.input : null, u: want.w ? this.filter : null };
  }

  /** Tensors of the given shapes (0: none) as slices of one new buffer, each at the adapter's binding alignment. */
  private allocate(shapes: (readonly number[] | 0)[]): (Tensor | null)[] {
    const sizes = shapes.map((s) => (s ? s.reduce((a, b) => a * b, 1) : 0));
    const at = alignedOffsets(sizes);
    const arena = Tensor.empty([at[at.length - 1]]);
    this.arenas.push(arena);
    return shapes.map((s, k) => (s ? arena.slice(at[k], s) : null));
  }

  /** The buffer holding dm, xt and u (made together), and each one's element offset in it. */
  sharedBuffer(): { binding: GPUBufferBinding; dm: number; xt: number; u: number } {
    const arena = this.arenas.find((a) => [this.gradOutput, this.input, this.filter].every((t) => t && t.binding.buffer === a.binding.buffer));
    if (!arena) throw new Error('internal: the Winograd operands were not made together');
    const at = (t: Tensor) => ((t.binding.offset ?? 0) - (arena.binding.offset ?? 0)) / 4;
    return { binding: arena.binding, dm: at(this.gradOutput!), xt: at(this.input!), u: at(this.filter!) };
  }

  dispose(): void {
    for (const t of [this.gradOutput, this.input, this.filter, ...this.arenas]) t?.dispose();
    this.gradOutput = this.input = this.filter = null;
    this.arenas = [];
  }
}

/** y = conv(x, w) (+ b), with `acc` added to y; F(2×2, 3×3), or F(4×4, 3×3) with t.m = 4. A map whose operands
 * exceed operandLimit runs in bands of tile rows, through the same operand buffers. */
export function winogradForward(t: WinogradTiling, g: ConvGeometry, x: GPUBufferBinding, w: GPUBufferBinding, b: GPUBufferBinding | null, y: GPUBufferBinding, acc = false): void {
  const m = t.m ?? 2;
  const tileRows = Math.ceil(g.OH / m);
  const rows = Math.min(tileRows, Math.max(1, Math.floor(operandLimit() / tileRowBytes(g, m))));
  const { P } = tileGeometry(g, m, rows);
  const u = Tensor.empty([planes(m), g.Cout, g.Cin]);
  const xt = Tensor.empty([planes(m), g.Cin, P]);
  const products = Tensor.empty([planes(m), g.Cout, P]);
  for (let ty0 = 0; ty0 < tileRows; ty0 += rows) {
    const band = Math.min(rows, tileRows - ty0);
    const { output, P: bandP } = tileGeometry(g, m, band);
    forwardOperands(g, x, w, xt.binding, u.binding, m, ty0, band, ty0 === 0);
    gemm(t, u.binding, xt.binding, products.binding, g.Cout, bandP, g.Cin, false, planes(m));
    rt().dispatch(m === 4 ? FORWARD4.output : OUTPUT, { m: products.binding, b: b ?? products.binding, y }, { ...output, ty0, hasBias: b ? 1 : 0, n: g.Cout * bandP }, { consts: { ACC: acc, Y: yStorage(g) } });
  }
  for (const buf of [xt, u, products]) buf.dispose();
}

/** dx of conv(x, w) from dy (folding reflection's mirrors), added to dx's contents with `acc`. */
export function winogradInputGrad(t: WinogradTiling, g: ConvGeometry, dy: GPUBufferBinding, w: GPUBufferBinding, dx: GPUBufferBinding, acc = false, shared?: WinogradShared): void {
  const own = shared ?? new WinogradShared();
  const { input, P } = tileGeometry(g);
  const { dm, u } = own.operands(g, dy, { w });
  const dv = Tensor.empty([16, g.Cin, P]);
  gemm(t, u!.binding, dm.binding, dv.binding, g.Cin, P, g.Cout, true);
  rt().dispatch(INPUT_GRAD, { dv: dv.binding, dx }, { ...input, n: g.N * g.Cin * g.H * g.W }, { consts: { REFLECT: !!g.reflect, ACC: acc } });
  dv.dispose();
  if (!shared) own.dispose();
}

/** dw [Cout, Cin, 3, 3] of conv(x, w) from dy, and with `db` the bias gradient [Cout] in the same pass; added to
 * their contents with `acc`. */
export function winogradWeightGrad(t: WinogradTiling, g: ConvGeometry, x: GPUBufferBinding, dy: GPUBufferBinding, dw: GPUBufferBinding, acc = false, shared?: WinogradShared, db: GPUBufferBinding | null = null): void {
  const own = shared ?? new WinogradShared();
  const { P } = tileGeometry(g);
  const { dm, xt } = own.operands(g, dy, { x });
  const du = Tensor.empty([16, g.Cout, g.Cin]);
  gemm(t, dm.binding, xt!.binding, du.binding, g.Cout, g.Cin, P);
  // Without a bias db is a scratch buffer (writable bindings may not alias).
  const unused = db ? null : Tensor.empty([g.Cout]);
  rt().dispatch(FILTER_GRAD, { du: du.binding, dw, dm: dm.binding, db: db ?? unused!.binding }, { n: g.Cout * g.Cin, Cin: g.Cin, P }, { consts: { ACC: acc, BIAS: db !== null } });
  for (const buf of [du, unused]) buf?.dispose();
  if (!shared) own.dispose();
}

/** Element offsets of a gradient pair's operands dm [planes, Cout, P], xt [planes, P, Cin], u [planes, Cout, Cin] in
 * one buffer, and its size last. */
const pairOperands = (g: ConvGeometry, m: number, P: number) => alignedOffsets([planes(m) * g.Cout * P, planes(m) * P * g.Cin, planes(m) * g.Cout * g.Cin]);
/** Likewise for the products du [planes, Cout, Cin] and dv [planes, Cin, P]. */
const pairProducts = (g: ConvGeometry, m: number, P: number) => alignedOffsets([planes(m) * g.Cout * g.Cin, planes(m) * g.Cin * P]);

/** Whether g's gradients can run together with output tile m: their three operands, and their two GEMMs' products,
 * each within one binding (twice the limit of one operand). */
export function winogradPairFits(g: ConvGeometry, m = 2): boolean {
  const { P } = tileGeometry(g, m);
  return 4 * Math.max(pairOperands(g, m, P).pop()!, pairProducts(g, m, P).pop()!) <= 2 * operandLimit();
}

/** F(4×4)'s three gradient operands in one dispatch, slices of one buffer (disposed by the caller). */
function gradientOperands4(g: ConvGeometry, x: GPUBufferBinding, dy: GPUBufferBinding, w: GPUBufferBinding): { arena: Tensor; dm: Tensor; at: { dm: number; xt: number; u: number } } {
  const { input, output, P } = tileGeometry(g, 4);
  const [dmAt, xtAt, uAt, total] = pairOperands(g, 4, P);
  const arena = Tensor.empty([total]);
  const [dm, xt, u] = [arena.slice(dmAt, [36, g.Cout, P]), arena.slice(xtAt, [36, P, g.Cin]), arena.slice(uAt, [36, g.Cout, g.Cin])];
  const [nDm, nXt, nU] = [g.Cout * P, g.Cin * P, g.Cout * g.Cin];
  rt().dispatch(GRADIENTS4.operands, { dy, x, w, dm: dm.binding, xt: xt.binding, u: u.binding }, { ...input, ...output, nDm, nXt, nU, n: nDm + nXt + nU }, {
    consts: { REFLECT: !!g.reflect, TRANSPOSE: true, X: xStorage(g) },
  });
  xt.dispose();
  u.dispose();
  return { arena, dm, at: { dm: dmAt, xt: xtAt, u: uAt } };
}

/** Both gradients of conv(x, w) from dy: dx (folding reflection's mirrors; added to with accX), dw and with `db` the
 * bias gradient (added to with accW), by F(2×2, 3×3) or with t.m = 4 F(4×4, 3×3). Their GEMMs run in one dispatch and
 * their inverse transforms in another: with the operands, 3 dispatches instead of 5. */
export function winogradGradients(t: WinogradTiling, g: ConvGeometry, x: GPUBufferBinding, dy: GPUBufferBinding, w: GPUBufferBinding, dx: GPUBufferBinding, accX: boolean, dw: GPUBufferBinding, db: GPUBufferBinding | null, accW: boolean): void {
  const m = t.m ?? 2;
  const { input, P } = tileGeometry(g, m);
  const shared = m === 2 ? new WinogradShared({ x, w }) : null;
  const four = shared ? null : gradientOperands4(g, x, dy, w);
  const dm = shared ? shared.operands(g, dy, { x, w }).dm : four!.dm;
  const ops = shared ? shared.sharedBuffer() : { binding: four!.arena.binding, ...four!.at };
  const [duAt, dvAt, total] = pairProducts(g, m, P);
  const products = Tensor.empty([total]);
  const du = products.slice(duAt, [planes(m), g.Cout, g.Cin]);
  const dv = products.slice(dvAt, [planes(m), g.Cin, P]);
  gemmDispatch(t, ops.binding, ops.binding, products.binding,
    { M: g.Cout, N: g.Cin, K: P, aAt: ops.dm, bAt: ops.xt, cAt: duAt, transA: false }, planes(m),
    { M: g.Cin, N: P, K: g.Cout, aAt: ops.u, bAt: ops.dm, cAt: dvAt, transA: true });
  const unused = db ? null : Tensor.empty([g.Cout]);
  // F(4×4): dx by blocks of 4×4 padded positions (conv_winograd4_gradients.wgsl), F(2×2) by pixels.
  const blocks = (side: number) => Math.ceil((side + g.pad) / 4);
  const nDx = g.N * g.Cin * (m === 4 ? blocks(g.H) * blocks(g.W) : g.H * g.W);
  const nW = g.Cout * g.Cin;
  rt().dispatch(m === 4 ? GRADIENTS4.inverse : GRADIENTS, { dv: dv.binding, dx, du: du.binding, dw, dm: dm.binding, db: db ?? unused!.binding }, { ...input, nDx, nW, P, n: nDx + nW }, {
    consts: { REFLECT: !!g.reflect, ACC_X: accX, ACC_W: accW, BIAS: db !== null },
  });
  for (const buf of [du, dv, products, unused, four?.dm, four?.arena]) buf?.dispose();
  shared?.dispose();
}
