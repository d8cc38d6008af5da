// Buffer-level dispatch of the three convolution GEMMs that conv2d and convTranspose2d share, named by what they
// compute: the direct gather (each output sums its input window: conv forward, the transposed conv's input
// gradient, and with FLIP conv's stride-1 input gradient), the phase gather (outputs grouped by (oy mod s, ox mod s),
// each phase summing only its own taps: transposed forward, conv's input gradient at stride > 1) and the weight
// gradient (a reduction over output pixels: both weight gradients); plus the bias gradient. Strategies:
// 'registers' (conv_direct_gather.wgsl, conv_phase_gather.wgsl, conv_weight_grad.wgsl: TM×TN register tiles
// straight from storage, weight loads uniform per workgroup — the CPU adapters' choice; on GPUs also split-K and
// with the shared operand staged in workgroup memory), 'tiles' (conv_tiled.wgsl: 64×64 to 128×128 blocks staged in
// workgroup memory, GPUs only), for weight gradients 'rows' (conv_weight_grad_rows.wgsl), and for 3×3 stride-1 layers 'winograd'
// (conv_winograd.ts: transforms and 16 smaller GEMMs). autotune.ts picks one per adapter and shape class.
import { Tensor, alignedOffsets, type DType } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { reductionVariant, tuned, decided, cpuLikeAdapter, TRIAL_REPS, LONG_TRIAL_REPS } from './autotune.js';
import { unpadSlices } from './pad.js';
import { winogradApplies, winogradForward, winogradInputGrad, winogradWeightGrad, winogradGradients, winogradPairFits, WinogradShared, xStorage, yStorage } from './conv_winograd.js';

const MAX_GROUPS = 65535;

/** Shape parameters shared by the GEMM shaders, in the direct convolution's names. */
const GEOMETRY = { N: 'u32', Cin: 'u32', H: 'u32', W: 'u32', Cout: 'u32', OH: 'u32', OW: 'u32', KH: 'u32', KW: 'u32', stride: 'u32', pad: 'u32' } as const;
/** y stored as Y (f32, or f16 for an f16 map: rounded when written). */
const GATHER_BINDINGS = { x: 'read', w: 'read', b: 'read', y: { access: 'read_write', type: 'array<Y>' } } as const;
/** x stored as X (f32, or f16 for an f16 map: read into f32). */
const X_MAP = { access: 'read', type: 'array<X>' } as const;
const WEIGHT_GRAD_BINDINGS = { x: X_MAP, dy: 'read', dw: 'read_write', db: 'read_write' } as const;

const DIRECT_GATHER = defineKernel({
  shader: 'conv_direct_gather',
  params: { ...GEOMETRY, tilesX: 'u32', hasBias: 'u32', zTiles: 'u32', ciPerSplit: 'u32' },
  bindings: { ...GATHER_BINDINGS, x: X_MAP },
  consts: { TM: 'u32', TN: 'u32', FLIP: 'bool', REFLECT: 'bool', FOLD: 'bool', ACC: 'bool', WG: 'u32', KS: 'u32', S: 'u32', STAGE: 'bool', X: 'float', Y: 'float' },
  includes: ['reflect', 'reflect_fold'],
  entry: ['gid', 'lid', 'wid', 'nwg'],
  workgroup: 'WG',
});
const PHASE_GATHER = defineKernel({
  shader: 'conv_phase_gather',
  params: { ...GEOMETRY, tilesPerPhase: 'u32', hasBias: 'u32', zTiles: 'u32', ciPerSplit: 'u32' },
  bindings: GATHER_BINDINGS,
  consts: { TM: 'u32', TN: 'u32', FOLD: 'bool', ACC: 'bool', WG: 'u32', KS: 'u32', S: 'u32', Y: 'float' },
  includes: ['reflect', 'reflect_fold'],
  entry: ['gid', 'wid', 'nwg'],
  workgroup: 'WG',
});
const WEIGHT_GRAD = defineKernel({
  shader: 'conv_weight_grad',
  params: { ...GEOMETRY, hasBias: 'u32', rowsPerSplit: 'u32' },
  bindings: WEIGHT_GRAD_BINDINGS,
  consts: { TM: 'u32', TQ: 'u32', REFLECT: 'bool', ACC: 'bool', WG: 'u32', STAGE: 'bool', X: 'float' },
  includes: ['reflect'],
  entry: ['gid', 'lid', 'wid'],
  workgroup: 'WG',
});
const WEIGHT_GRAD_ROWS = defineKernel({
  shader: 'conv_weight_grad_rows',
  params: { N: 'u32', Cin: 'u32', H: 'u32', W: 'u32', Cout: 'u32', OH: 'u32', OW: 'u32', KH: 'u32', pad: 'u32', hasBias: 'u32', rowsPerSplit: 'u32' },
  bindings: WEIGHT_GRAD_BINDINGS,
  // KW and the stride S are compile-time: the taps' register window; KEEP = max(KW − S, 0) taps carry over.
  consts: { TM: 'u32', KW: 'u32', S: 'u32', KEEP: 'u32', REFLECT: 'bool', ACC: 'bool', WG: 'u32', X: 'float' },
  includes: ['reflect'],
  entry: ['gid', 'wid'],
  workgroup: 'WG',
});
const TILED = defineKernel({
  shader: 'conv_tiled',
  params: { ...GEOMETRY, hasBias: 'u32', kPerSplit: 'u32', zTiles: 'u32' },
  bindings: { x: X_MAP, a: 'read', b: 'read', c: { access: 'read_write', type: 'array<Y>' } },
  consts: { MODE: 'u32', RM: 'u32', RN: 'u32', REFLECT: 'bool', PHASED: 'bool', ACC: 'bool', KS: 'u32', S: 'u32', X: 'float', Y: 'float' },
  includes: ['workgroup_tile', 'reflect'],
  entry: ['lid3', 'wid', 'nwg'],
  workgroup: [16, 16],
});
const BIAS_GRAD = defineKernel({
  shader: 'conv_bias_grad',
  params: { N: 'u32', C: 'u32', HW: 'u32' },
  bindings: { dy: 'read', db: 'read_write' },
  consts: { ACC: 'bool' },
  entry: ['lid', 'wid'],
  reduction: 'f32',
});
const REDUCE_SPLITS = defineKernel({
  shader: 'reduce_splits',
  params: { n: 'u32', splits: 'u32', n1: 'u32', part2: 'u32', out2: 'u32' },
  bindings: { part: 'read', out: { access: 'read_write', type: 'array<Y>' } },
  consts: { ACC: 'bool', Y: 'float' },
  entry: 'elementwise',
});

export type ConvKind = 'directGather' | 'phaseGather' | 'weightGrad';

/** A strategy and its tile shape: TM output channels × TN pixels (taps for the weight gradient) per invocation,
 * WG invocations per workgroup ('registers'). 'rows' (weight gradient only) owns TM channels × one kernel row.
 * 'tiles': TM×TN in {4, 8}² per invocation, a 16·TM × 16·TN block per workgroup of 256.
 * `splitK` (the gathers' register and workgroup-memory tiles): their reduction over input channels split that many
 * ways, or 'auto'
 * until the layer has about as many workgroups as a GPU holds; absent: not split. `foldPass` (a reflect-padded
 * stride-1 input gradient with register tiles): computed over the padded grid, then folded by a pass that also adds
 * the split-K slices, instead of folding inside the gather. `staged` (register tiles): what every invocation of a
 * workgroup reads alike is staged in workgroup memory — the direct gather's weights (square kernels, not folding
 * inside), the weight gradient's dy rows. */
export interface ConvVariant {
  strategy: 'registers' | 'tiles' | 'rows' | 'winograd';
  tm: number;
  tn: number;
  wg: number;
  splitK?: number | 'auto';
  foldPass?: boolean;
  staged?: boolean;
  /** Winograd's output tile: F(4×4, 3×3) for forwards and a layer's gradients together (absent: F(2×2, 3×3)). */
  m?: 4;
  /** Winograd's GEMMs in workgroup-memory tiles (TM×TN in {4, 8}² per invocation, 256 per workgroup). */
  tiledGemm?: boolean;
}

/** Register tiling forced for every convolution (tests and benchmarks), instead of the tuned choice; 'rows' applies
 * to weight gradients, 'winograd' to 3×3 stride-1 layers (TM×TN its GEMMs' tile), the others then use registers
 * TM×TN. */
export interface ConvTiling { tm: number; tn: number; wg?: number; strategy?: ConvVariant['strategy']; splitK?: number | 'auto'; foldPass?: boolean; staged?: boolean; m?: 4; tiledGemm?: boolean }
let forced: ConvTiling | null = null;

export function convTiling(): ConvTiling | null {
  return forced;
}

export function setConvTiling(t: ConvTiling | null): void {
  forced = t ? { ...t } : null;
}

/** Geometry in the direction of the direct convolution: x [N,Cin,H,W] → y [N,Cout,OH,OW] with kernel KH×KW;
 * `reflect`: the padding mirrors x (direct gather, weight gradient), or for an input gradient (phase gather, flipped
 * direct gather) y is folded as ReflectionPad2d's backward folds the padded input's gradient. */
export interface ConvGeometry {
  N: number; Cin: number; H: number; W: number; Cout: number; OH: number; OW: number;
  KH: number; KW: number; stride: number; pad: number; reflect?: boolean;
  /** x is an f16 map (read into f32; gathers and weight gradients that read x, not the phase gather's registers). */
  xF16?: boolean;
  /** y (the gathers' output) is an f16 map, rounded when written; the weight gradients' outputs stay f32. */
  yF16?: boolean;
}

const registers = (tm: number, tn: number, wg = 64): ConvVariant => ({ strategy: 'registers', tm, tn, wg });
const splitRegisters = (tm: number, tn: number): ConvVariant => ({ ...registers(tm, tn), splitK: 'auto' });
const tiles = (tm: number, tn: number, splitK?: 'auto'): ConvVariant => ({ strategy: 'tiles', tm, tn, wg: 256, ...(splitK ? { splitK } : {}) });
const TILES = tiles(4, 4);
/** The workgroup-memory tiles' GPU candidates: 64×64 blocks, and 128-channel blocks over 64 or 128 columns, whose
 * gathers split their reduction until the layer fills the GPU (a weight gradient's always does). */
const GPU_TILES = [TILES, tiles(8, 4, 'auto'), tiles(8, 8, 'auto')];
const TILE_SHAPES = [4, 8];
const ROWS: ConvVariant = { strategy: 'rows', tm: 16, tn: 0, wg: 16 };
const WINOGRAD: ConvVariant[] = [{ strategy: 'winograd', tm: 16, tn: 8, wg: 64 }, { strategy: 'winograd', tm: 8, tn: 16, wg: 64 }];
const WINOGRAD4: ConvVariant = { strategy: 'winograd', tm: 16, tn: 8, wg: 64, m: 4 };
/** GPUs: Winograd's GEMMs in 64×64 and 128×128 workgroup-memory tiles. */
const WINOGRAD_TILED: ConvVariant[] = [{ strategy: 'winograd', tm: 4, tn: 4, wg: 256, tiledGemm: true }, { strategy: 'winograd', tm: 8, tn: 8, wg: 256, tiledGemm: true }];
const WINOGRAD4_TILED: ConvVariant = { ...WINOGRAD_TILED[1], m: 4 };

/** Candidates per kind (on lavapipe 16 channels × 8 pixels per invocation usually wins; narrow layers and small
 * maps prefer other shapes). The workgroup-memory strategy joins on GPUs only: on CPU adapters
 * it is several times slower and would make the first step's trials long. */
function candidates(kind: ConvKind = 'directGather', outChannels = Infinity, reflectInputGrad = false, winograd = false, winograd4 = false): ConvVariant[] {
  const regs = [registers(16, 8), registers(8, 16), registers(8, 8), registers(16, 4, 32), ...(winograd ? WINOGRAD : []), ...(winograd4 ? [WINOGRAD4] : [])];
  // Weight gradients with few kernel rows or output channels (the 7×7 stem and head) prefer walking whole kernel
  // rows along the pixels; convolutions with few output channels (the head, a 3-channel input's gradient), long
  // pixel rows: both let each input load serve more multiply-adds.
  if (kind === 'weightGrad') regs.push(ROWS);
  else if (outChannels <= 4) regs.push(registers(4, 32));
  if (cpuLikeAdapter()) return regs;
  const gpu = [...GPU_TILES, ...(winograd ? WINOGRAD_TILED : []), ...(winograd4 ? [WINOGRAD4_TILED] : [])];
  // Batch-1 layers on GPUs: a 64² map's 16×8 tiles make ~128 workgroups for ~130 multiprocessors (H200: the
  // ResNet-block forward and input gradient at 14 % of the GEMM ceiling); splitting the reduction multiplies them.
  // Staged operands: a gather's weights, a weight gradient's dy rows, read by TM/4 or 4-pixel broadcast vec4s.
  if (kind === 'weightGrad') return [...gpu, ...regs, { ...registers(16, 4, 32), staged: true }, { ...registers(16, 8), staged: true }];
  const splits = [splitRegisters(16, 8), splitRegisters(8, 8)];
  if (kind === 'phaseGather') return [...gpu, ...regs, ...splits];
  const staged = [registers(16, 8), ...splits].map((v) => ({ ...v, staged: true }));
  if (!reflectInputGrad) return [...gpu, ...regs, ...splits, ...staged];
  // A reflect-padded input gradient folded inside the gather runs the tap loop twice in the warps holding a
  // mirrored row (the H200's took 1.9× the forward); over the padded grid every tile does the same work.
  return [...gpu, ...regs, ...splits, ...[registers(16, 8), ...splits, ...staged].map((v) => ({ ...v, foldPass: true }))];
}

/** Multiply-adds × 2 from which a CPU adapter's trial is long (~40 ms on lavapipe): fewer counted runs. */
const LONG_TRIAL_FLOP = 1e9;

function trialReps(g: ConvGeometry): number {
  return cpuLikeAdapter() && directFlops(g) >= LONG_TRIAL_FLOP ? LONG_TRIAL_REPS : TRIAL_REPS;
}

/** Power-of-two buckets: one tuning per class of similar layers. */
function bucket(n: number): number {
  return n <= 1 ? 1 : 2 ** (32 - Math.clz32(Math.ceil(n) - 1));
}

/** `inputGrad`: a stride-1 input gradient (the flipped gather, which also folds reflection): tuned apart from the
 * forwards of its shape, whose variant, timed without the fold's edge work, it used to get. */
function shapeClass(kind: ConvKind | 'gradients', g: ConvGeometry, inputGrad = false): string {
  return `conv ${kind}${inputGrad ? ` input grad${g.reflect ? ' reflect' : ''}` : ''} k${g.KH}x${g.KW} s${g.stride} cin${bucket(g.Cin)} cout${bucket(g.Cout)} px${bucket(g.N * g.OH * g.OW)}`;
}

let lastVariant: ConvVariant | null = null;

/** Winograd is a candidate where conv_winograd.ts computes g (forwards in bands if need be), or for an input gradient
 * (g its flipped geometry) where `winogradGradient` says it computes the convolution's gradients. */
function variantFor(kind: ConvKind, g: ConvGeometry, trial: (v: ConvVariant) => void, inputGrad = false, winogradGradient?: boolean): ConvVariant {
  const forward = kind === 'directGather' && !inputGrad;
  const winograd = winogradGradient ?? winogradApplies(g, 2, forward);
  const winograd4 = forward && winogradApplies(g, 4, true);
  if (forced) {
    const unsupported = (forced.strategy === 'rows' && kind !== 'weightGrad') || (forced.strategy === 'winograd' && !winograd);
    const strategy = unsupported ? 'registers' : forced.strategy ?? 'registers';
    const tiledGemm = strategy === 'winograd' && forced.tiledGemm;
    if ((strategy === 'tiles' || tiledGemm) && !(TILE_SHAPES.includes(forced.tm) && TILE_SHAPES.includes(forced.tn))) {
      throw new Error(`conv tiling: workgroup-memory tiles take 4 or 8 rows and columns per invocation, not ${forced.tm}×${forced.tn}`);
    }
    const splitK = kind !== 'weightGrad' && (strategy === 'registers' || strategy === 'tiles') ? forced.splitK : undefined;
    const foldPass = inputGrad && strategy === 'registers' && forced.foldPass;
    const staged = strategy === 'registers' && forced.staged;
    const m = strategy === 'winograd' && winograd4 ? forced.m : undefined;
    const wg = strategy === 'tiles' || tiledGemm ? 256 : forced.wg ?? 64;
    lastVariant = { strategy, tm: forced.tm, tn: forced.tn, wg, ...(splitK ? { splitK } : {}), ...(foldPass ? { foldPass } : {}), ...(staged ? { staged } : {}), ...(m ? { m } : {}), ...(tiledGemm ? { tiledGemm } : {}) };
  } else {
    const fallback = cpuLikeAdapter() ? registers(16, 8) : TILES;
    lastVariant = tuned(shapeClass(kind, g, inputGrad), candidates(kind, g.Cout, inputGrad && !!g.reflect, winograd, winograd4), fallback, trial, trialReps(g));
  }
  return lastVariant;
}

/** The variant of the convolution recorded last, in words (benchmarks print it beside its time). */
export function lastConvVariant(): string {
  const v = lastVariant;
  if (!v) return '';
  return `${v.strategy}${v.m ? ` F(${v.m}×${v.m})` : ''} ${v.tm}×${v.tn}${v.wg === 64 ? '' : ` wg ${v.wg}`}${v.splitK ? `, split-K ${v.splitK}` : ''}${v.foldPass ? ', fold pass' : ''}${v.staged ? ', staged' : ''}${v.tiledGemm ? ', tiled GEMM' : ''}`;
}

/** Exactly the channel count when it is below the tile: a 4-row tile would waste a quarter of the 3-channel head. */
function channelTile(tm: number, channels: number): number {
  return Math.min(tm, channels);
}

/** Likewise for narrow rows (the 8×8 maps of small crops). */
function pixelTile(tn: number, width: number): number {
  return Math.min(tn, 2 ** Math.ceil(Math.log2(width)));
}

/** Work items along x (pixel or tap tiles, folded into z past the per-dimension limit), channel tiles along y. */
function groups2d(items: number, channelTiles: number, wg: number): [number, number, number] {
  let gx = Math.ceil(items / wg);
  const gz = Math.ceil(gx / MAX_GROUPS);
  gx = Math.ceil(gx / gz);
  return [gx, channelTiles, gz];
}

const geometry = (g: ConvGeometry) => ({
  N: g.N, Cin: g.Cin, H: g.H, W: g.W, Cout: g.Cout, OH: g.OH, OW: g.OW, KH: g.KH, KW: g.KW, stride: g.stride, pad: g.pad,
});

/** The workgroups of v's workgroup-memory tiles over `cols` GEMM columns and g.Cout rows (before splitting k). */
function tileGroups(v: ConvVariant, g: ConvGeometry, cols: number): [number, number, number] {
  return groups2d(cols, Math.ceil(g.Cout / (16 * v.tm)), 16 * v.tn);
}

type TileBuffers = { x: GPUBufferBinding; a: GPUBufferBinding; b: GPUBufferBinding; c: GPUBufferBinding };

/** conv_tiled.wgsl in `mode` over `groups` (z: zTiles column folds (× the phases when `phased`) × the splits of k,
 * kPerSplit rows of k each). */
function dispatchTiles(mode: number, v: ConvVariant, g: ConvGeometry, buffers: TileBuffers, hasBias: boolean, groups: [number, number, number], zTiles: number, kPerSplit: number, acc: boolean, Y: DType, phased = false): void {
  const params = { ...geometry(g), hasBias: hasBias ? 1 : 0, kPerSplit, zTiles };
  rt().dispatch(TILED, buffers, params, { consts: { MODE: mode, RM: v.tm, RN: v.tn, REFLECT: !!g.reflect, PHASED: phased, ACC: acc, ...tileShape(g), X: xStorage(g), Y }, groups });
}

/** A gather (mode 0 direct, 1 phase) by workgroup-memory tiles, its input channels split as v asks. Mode 1 at
 * stride > 1 runs one GEMM per output phase over the phase's own taps (not with reflection, whose mirrors mix the
 * phases: that multiplies every tap). */
function gatherTiles(mode: number, v: ConvVariant, g: ConvGeometry, x: GPUBufferBinding, w: GPUBufferBinding, b: GPUBufferBinding | null, y: GPUBufferBinding, acc: boolean): void {
  const phased = mode === 1 && g.stride > 1 && !g.reflect;
  const phases = phased ? g.stride ** 2 : 1;
  const cols = phased ? g.N * Math.ceil(g.OH / g.stride) * Math.ceil(g.OW / g.stride) : g.N * g.OH * g.OW;
  const [gx, gy, folds] = tileGroups(v, g, cols);
  splitGather(g, [gx, gy, folds * phases], v, y, acc, (out, split, groups, accumulate, Y) =>
    dispatchTiles(mode, v, g, { x, a: w, b: b ?? w, c: out }, b !== null, groups, split.zTiles, split.ciPerSplit * g.KH * g.KW, accumulate, Y, phased));
}

/** Ways to split a reduction over `length` items (a weight gradient's output rows, a gather's input channels) so
 * that a layer of `groups` workgroups gets enough: CPU adapters need a few per thread, GPUs hundreds. */
function splitCount(groups: number, length: number): number {
  const target = cpuLikeAdapter() ? 8 : 1024;
  return Math.max(1, Math.min(length, 64, Math.ceil(target / groups)));
}

/** out[i] = Σ_s part[s·n + i] (+ out[i] with acc): the split-K slices added in a fixed order. With `second`, the same
 * dispatch also adds a second segment of `second.n` values whose slices start at element `partAt` of part, into
 * out from element `outAt` (a layer's bias gradient beside its weight gradient in one buffer). */
function reduceSplits(part: GPUBufferBinding, out: GPUBufferBinding, n: number, splits: number, acc: boolean, Y: DType = 'f32', second = { n: 0, partAt: 0, outAt: 0 }): void {
  const params = { n: n + second.n, splits, n1: n, part2: second.partAt, out2: second.outAt };
  rt().dispatch(REDUCE_SPLITS, { part, out }, params, { consts: { ACC: acc, Y } });
}

/** The binding from a's start to b's end where b lies after a in the same buffer (a parameter arena's weight and
 * bias gradients), and b's start in elements from a's; else null. */
function spanning(a: GPUBufferBinding, b: GPUBufferBinding): { span: GPUBufferBinding; bAt: number } | null {
  const [aStart, bStart] = [a.offset ?? 0, b.offset ?? 0];
  const aEnd = aStart + (a.size ?? a.buffer.size - aStart);
  if (a.buffer !== b.buffer || bStart < aEnd) return null;
  const bEnd = bStart + (b.size ?? b.buffer.size - bStart);
  return { span: { buffer: a.buffer, offset: aStart, size: bEnd - aStart }, bAt: (bStart - aStart) / 4 };
}

/** Runs an autotune trial into a scratch output of the real one's size. */
function scratchTrial(shape: readonly number[], run: (v: ConvVariant, out: GPUBufferBinding) => void): (v: ConvVariant) => void {
  return (v) => {
    const out = Tensor.empty(shape);
    run(v, out.binding);
    out.dispose();
  };
}

/** How many ways to split a reduction over `channels`: as asked, or ('auto', a GPU candidate) as splitCount says;
 * then as few as give the same channels per split. */
function splitWays({ splitK }: ConvVariant, workgroups: number, channels: number): number {
  const ways = splitK === 'auto' ? splitCount(workgroups, channels) : Math.max(1, Math.min(splitK ?? 1, channels, 64));
  const perSplit = Math.ceil(channels / ways);
  return Math.ceil(channels / perSplit);
}

/** Records a gather (direct or phase) with its reduction over input channels split `splits` ways: the slices go to a
 * temporary [splits, N, Cout, OH, OW] and are added into y (to its contents with `acc`) by a second dispatch, or
 * by `reduce` when given (which then also runs for one slice). */
function splitGather(g: ConvGeometry, groups: [number, number, number], v: ConvVariant, y: GPUBufferBinding, acc: boolean, record: (out: GPUBufferBinding, params: { zTiles: number; ciPerSplit: number }, groups: [number, number, number], accumulate: boolean, Y: DType) => void, reduce?: (part: GPUBufferBinding, splits: number) => void): void {
  const [gx, gy, zTiles] = groups;
  const splits = splitWays(v, gx * gy * zTiles, g.Cin);
  const outSize = g.N * g.Cout * g.OH * g.OW;
  const part = splits > 1 || reduce ? Tensor.empty([splits, outSize]) : null;
  // The slices are f32; y's storage is rounded to once, when they are added.
  record(part?.binding ?? y, { zTiles, ciPerSplit: Math.ceil(g.Cin / splits) }, [gx, gy, zTiles * splits], acc && !part, part ? 'f32' : yStorage(g));
  if (part) (reduce ?? ((slices, ways) => reduceSplits(slices, y, outSize, ways, acc, yStorage(g))))(part.binding, splits);
  part?.dispose();
}

/** The stride and a square kernel's size as compile-time constants of the register gathers (KS 0: not square, read
 * at run time). */
function staticShape(g: ConvGeometry): { KS: number; S: number } {
  return { KS: g.KH === g.KW ? g.KH : 0, S: g.stride };
}

/** The same for the workgroup-memory tiles, for the 3×3 kernels at stride 1 and 2 only (the ResNet blocks and the
 * resampling layers: most of the FLOPs); other shapes read both at run time (0). Each constant set is one more
 * pipeline to compile per tile variant (seconds each on lavapipe), so only the shapes that carry the FLOPs get one. */
function tileShape(g: ConvGeometry): { KS: number; S: number } {
  return g.KH === 3 && g.KW === 3 && g.stride <= 2 ? { KS: 3, S: g.stride } : { KS: 0, S: 0 };
}

/** With `flip`, w is read rotated and channel-swapped (conv_direct_gather.wgsl's FLIP; register tiles only); with
 * `acc` y is added to. `reduce`: see splitGather. */
function dispatchDirectGather(v: ConvVariant, g: ConvGeometry, x: GPUBufferBinding, w: GPUBufferBinding, b: GPUBufferBinding | null, y: GPUBufferBinding, flip = false, acc = false, reduce?: (part: GPUBufferBinding, splits: number) => void): void {
  if (v.strategy === 'winograd') return winogradForward(v, g, x, w, b, y, acc);
  if (v.strategy === 'tiles') return gatherTiles(0, v, g, x, w, b, y, acc);
  const tm = channelTile(v.tm, g.Cout);
  const tn = pixelTile(v.tn, g.OW);
  const tilesX = Math.ceil(g.OW / tn);
  const fold = !!g.reflect && flip;
  const shape = staticShape(g);
  splitGather(g, groups2d(g.N * g.OH * tilesX, Math.ceil(g.Cout / tm), v.wg), v, y, acc, (out, split, groups, accumulate, Y) => {
    rt().dispatch(DIRECT_GATHER, { x, w, b: b ?? w, y: out }, { ...geometry(g), tilesX, hasBias: b ? 1 : 0, ...split }, {
      consts: { TM: tm, TN: tn, FLIP: flip, REFLECT: !!g.reflect && !flip, FOLD: fold, ACC: accumulate, WG: v.wg, ...shape, STAGE: !!v.staged && shape.KS !== 0 && !fold, X: xStorage(g), Y },
      groups,
    });
  }, reduce);
}

/** The input gradient of a reflect-padded stride-1 convolution (`flipped`: its flipped gather onto x; `pad`: the
 * convolution's own) by the plain flipped gather over the padded grid, whose slices pad_backward.wgsl then adds and
 * folds onto dx in one pass. */
function dispatchFoldPass(v: ConvVariant, flipped: ConvGeometry, pad: number, dy: GPUBufferBinding, w: GPUBufferBinding, dx: GPUBufferBinding, acc: boolean): void {
  const padded: ConvGeometry = { ...flipped, OH: flipped.OH + 2 * pad, OW: flipped.OW + 2 * pad, pad: flipped.KH - 1, reflect: false };
  const shape = [flipped.N, flipped.Cout, flipped.OH, flipped.OW];
  dispatchDirectGather(v, padded, dy, w, null, dx, true, false, (part, splits) =>
    unpadSlices(part, dx, shape, [padded.OH, padded.OW], [pad, pad, pad, pad], true, acc, splits));
}

function dispatchPhaseGather(v: ConvVariant, g: ConvGeometry, x: GPUBufferBinding, w: GPUBufferBinding, b: GPUBufferBinding | null, y: GPUBufferBinding, acc = false): void {
  if (v.strategy === 'tiles') return gatherTiles(1, v, g, x, w, b, y, acc);
  const tm = channelTile(v.tm, g.Cout);
  const tn = pixelTile(v.tn, Math.ceil(g.OW / g.stride));
  const tilesPerPhase = Math.ceil(Math.ceil(g.OW / g.stride) / tn);
  const rowsPerPhase = Math.ceil(g.OH / g.stride);
  splitGather(g, groups2d(g.N * rowsPerPhase * tilesPerPhase * g.stride ** 2, Math.ceil(g.Cout / tm), v.wg), v, y, acc, (out, split, groups, accumulate, Y) => {
    rt().dispatch(PHASE_GATHER, { x, w, b: b ?? w, y: out }, { ...geometry(g), tilesPerPhase, hasBias: b ? 1 : 0, ...split }, {
      consts: { TM: tm, TN: tn, FOLD: !!g.reflect, ACC: accumulate, WG: v.wg, ...staticShape(g), Y },
      groups,
    });
  });
}

/** Which GEMM computes the input gradient of the direct convolution g (with register tiles). */
export function inputGradKind(g: ConvGeometry): 'directGather' | 'phaseGather' {
  return g.stride !== 1 || g.KH !== g.KW || g.pad > g.KH - 1 ? 'phaseGather' : 'directGather';
}

/** dx [N, Cin, H, W] of the direct convolution g from dy, added to dx's contents with `acc`. Stride 1 with register
 * tiles: the direct gather of dy with the rotated, channel-swapped weight (conv_direct_gather.wgsl with FLIP), which
 * runs at the forward kernel's speed; otherwise the phase gather of the transposed convolution. With reflection
 * every strategy folds the mirrored positions in (no padded gradient, no fold dispatch), except the fold pass (a GPU
 * candidate: the padded grid's gradient, folded with its split-K slices in one dispatch). */
export function inputGrad(g: ConvGeometry, dy: GPUBufferBinding, w: GPUBufferBinding, dx: Tensor, acc = false, shared?: WinogradShared, strategy = inputGradStrategy(g, dy, w)): void {
  strategy.run(strategy.variant, dx.binding, acc, shared);
  rt().convFlops += directFlops(g);
}

/** The variant that computes dx of g (tuned on first use), how it runs, and its autotune key. */
export type InputGradStrategy = ReturnType<typeof inputGradStrategy>;

function inputGradStrategy(g: ConvGeometry, dy: GPUBufferBinding, w: GPUBufferBinding) {
  const t: ConvGeometry = { ...g, Cin: g.Cout, H: g.OH, W: g.OW, Cout: g.Cin, OH: g.H, OW: g.W, xF16: false, yF16: false };
  const flipped: ConvGeometry = { ...t, pad: g.KH - 1 - g.pad };
  const phase = inputGradKind(g) === 'phaseGather';
  const run = (v: ConvVariant, out: GPUBufferBinding, accumulate = false, share?: WinogradShared) => {
    if (v.strategy === 'winograd') return winogradInputGrad(v, g, dy, w, out, accumulate, share);
    if (v.strategy !== 'registers' || phase) return dispatchPhaseGather(v, t, dy, w, null, out, accumulate);
    if (v.foldPass && g.reflect) return dispatchFoldPass(v, flipped, g.pad, dy, w, out, accumulate);
    dispatchDirectGather(v, flipped, dy, w, null, out, true, accumulate);
  };
  const kind = phase ? 'phaseGather' : 'directGather';
  const geometry = phase ? t : flipped;
  const variant = variantFor(kind, geometry, scratchTrial([g.N, g.Cin, g.H, g.W], run), !phase, winogradApplies(g));
  return { variant, run, key: shapeClass(kind, geometry, !phase) };
}

/** The variant that computes dw of g (tuned on first use). */
function weightGradVariant(g: ConvGeometry, x: GPUBufferBinding, dy: GPUBufferBinding): ConvVariant {
  return variantFor('weightGrad', g, scratchTrial([g.Cout, g.Cin, g.KH, g.KW], (c, out) => dispatchWeightGrad(c, g, x, dy, out)));
}

/** The variants of g's gradients that are asked for (null: not asked), resolved once for a backward. */
export interface GradientVariants { input: InputGradStrategy | null; weight: ConvVariant | null }

export function gradientVariants(g: ConvGeometry, x: GPUBufferBinding, dy: GPUBufferBinding, w: GPUBufferBinding, inputGradient: boolean, weightGradient: boolean): GradientVariants {
  return { input: inputGradient ? inputGradStrategy(g, dy, w) : null, weight: weightGradient ? weightGradVariant(g, x, dy) : null };
}

/** What the input and weight gradients of g (those asked for) share: where both are Winograd's, the first makes the
 * operands of both in one dispatch. Disposed by the caller. */
export function sharedGradientOperands(variants: GradientVariants, x: GPUBufferBinding, w: GPUBufferBinding): WinogradShared {
  const both = variants.input?.variant.strategy === 'winograd' && variants.weight?.strategy === 'winograd';
  return new WinogradShared(both ? { x, w } : { x: null, w: null });
}

/** Computing a layer's two gradients apart (each by its own tuned variant), against together (Winograd tiles). */
const APART = 'apart';

/** dx (into `dx`, added to with accX) together with dw and, with `withBias`, db (added to `into` where both are
 * given, as weightAndBiasGrad adds), by Winograd: their GEMMs in one dispatch, their inverse transforms in another.
 * Null where g's gradients are better computed apart: the caller does so. */
export function pairedGradients(g: ConvGeometry, x: GPUBufferBinding, dy: Tensor, w: GPUBufferBinding, dx: Tensor, accX: boolean, into: [Tensor | null, Tensor | null], withBias: boolean, variants: GradientVariants): [Tensor, Tensor | null] | null {
  const tile = pairedTile(g, x, dy, w, withBias, variants.input!, variants.weight!);
  if (!tile) return null;
  const accW = into[0] !== null && (!withBias || into[1] !== null);
  const dw = accW ? into[0]! : Tensor.empty([g.Cout, g.Cin, g.KH, g.KW]);
  const db = withBias ? (accW ? into[1]! : Tensor.empty([g.Cout])) : null;
  winogradGradients(tile, g, x, dy.savedBinding, w, dx.binding, accX, dw.binding, db?.binding ?? null, accW);
  rt().convFlops += 2 * directFlops(g);
  return [dw, db];
}

/** The Winograd tile of g's gradients together, or null for apart. Tuned (key 'conv gradients …') once both
 * gradients' own variants are decided, so that 'apart' is timed as it will run: each gradient's own trial cannot see
 * what sharing a dispatch with the other saves. Without autotuning (tests, forced tilings): together where both
 * variants are Winograd's with one tile. */
function pairedTile(g: ConvGeometry, x: GPUBufferBinding, dyTensor: Tensor, w: GPUBufferBinding, withBias: boolean, input: InputGradStrategy, vw: ConvVariant): ConvVariant | null {
  if (!winogradApplies(g) || !winogradPairFits(g)) return null;
  const dy = dyTensor.savedBinding;
  const vx = input.variant;
  const same = vx.strategy === 'winograd' && vw.strategy === 'winograd' && vx.tm === vw.tm && vx.tn === vw.tn && vx.wg === vw.wg && !!vx.tiledGemm === !!vw.tiledGemm;
  // Forced F(4×4) (tests, benchmarks) pairs the gradients in F(4×4) too.
  if (forced) return same ? (forced.m === 4 && winogradPairFits(g, 4) ? { ...vw, m: 4 } : vw) : null;
  if (!decided(input.key) || !decided(shapeClass('weightGrad', g))) return same ? vw : null;
  const trial = (c: ConvVariant | typeof APART) => {
    const [dx, dw] = [Tensor.empty([g.N, g.Cin, g.H, g.W]), Tensor.empty([g.Cout, g.Cin, g.KH, g.KW])];
    const db = withBias ? Tensor.empty([g.Cout]) : null;
    if (c !== APART) {
      winogradGradients(c, g, x, dy, w, dx.binding, false, dw.binding, db?.binding ?? null, false);
    } else {
      const shared = sharedGradientOperands({ input, weight: vw }, x, w);
      input.run(vx, dx.binding, false, shared);
      dispatchWeightGrad(vw, g, x, dy, dw.binding, db, dyTensor, false, shared);
      shared.dispose();
    }
    for (const t of [dx, dw, db]) t?.dispose();
  };
  const choice = tuned(`${shapeClass('gradients', g)}${g.reflect ? ' reflect' : ''}`, pairCandidates(g), same ? vw : APART, trial, trialReps(g));
  return choice === APART ? null : choice;
}

/** What the pairing of g's gradients tries: apart, or together with each Winograd GEMM tile in F(2×2) and, where its
 * operands fit, F(4×4). */
function pairCandidates(g: ConvGeometry): (ConvVariant | typeof APART)[] {
  const pairTiles = [...WINOGRAD, ...(cpuLikeAdapter() ? [] : WINOGRAD_TILED)];
  return [APART, ...pairTiles, ...(winogradPairFits(g, 4) ? pairTiles.map((v) => ({ ...v, m: 4 as const })) : [])];
}

/** dw, and with `db` also the bias gradient Σ dy in the same pass ('registers'; 'tiles' adds a reduction). Layers
 * with few workgroups split the reduction over output rows (split-K) and add the slices afterwards. With `acc` the
 * results are added to dw and db. */
function dispatchWeightGrad(v: ConvVariant, g: ConvGeometry, x: GPUBufferBinding, dy: GPUBufferBinding, dw: GPUBufferBinding, db: Tensor | null = null, dyTensor?: Tensor, acc = false, shared?: WinogradShared): void {
  if (v.strategy === 'winograd') return winogradWeightGrad(v, g, x, dy, dw, acc, shared, db?.binding ?? null);
  const taps = g.Cin * g.KH * g.KW;
  const rows = g.N * g.OH;
  if (v.strategy === 'tiles') {
    const [gx, gy, zTiles] = tileGroups(v, g, taps);
    const splits = splitCount(gx * gy * zTiles, rows);
    const part = splits > 1 ? Tensor.empty([splits, g.Cout * taps]) : null;
    dispatchTiles(2, v, g, { x, a: dy, b: dy, c: part?.binding ?? dw }, false, [gx, gy, zTiles * splits], zTiles, Math.ceil(rows / splits) * g.OW, acc && !part, 'f32');
    if (part) reduceSplits(part.binding, dw, g.Cout * taps, splits, acc);
    part?.dispose();
    if (db) dispatchBiasGrad(dyTensor!, db, acc);
    return;
  }
  if (v.strategy === 'rows') return dispatchWeightGradRows(v, g, x, dy, dw, db, acc);
  const tm = channelTile(v.tm, g.Cout);
  const items = Math.ceil(taps / v.tn);
  const groups: [number, number] = [Math.ceil(items / v.wg), Math.ceil(g.Cout / tm)];
  splitWeightGrad(g, groups, x, dy, dw, db, acc, (buffers, splits, rowsPerSplit) => {
    rt().dispatch(WEIGHT_GRAD, buffers, { ...geometry(g), hasBias: db ? 1 : 0, rowsPerSplit }, {
      consts: { TM: tm, TQ: v.tn, REFLECT: !!g.reflect, ACC: acc && splits === 1, WG: v.wg, STAGE: !!v.staged, X: xStorage(g) },
      groups: [...groups, splits],
    });
  });
}

/** The weight gradient with one (ci, kh) kernel row per invocation (conv_weight_grad_rows.wgsl). */
function dispatchWeightGradRows(v: ConvVariant, g: ConvGeometry, x: GPUBufferBinding, dy: GPUBufferBinding, dw: GPUBufferBinding, db: Tensor | null, acc: boolean): void {
  const tm = channelTile(v.tm, g.Cout);
  const groups: [number, number] = [Math.ceil((g.Cin * g.KH) / v.wg), Math.ceil(g.Cout / tm)];
  splitWeightGrad(g, groups, x, dy, dw, db, acc, (buffers, splits, rowsPerSplit) => {
    const { N, Cin, H, W, Cout, OH, OW, KH, pad } = g;
    rt().dispatch(WEIGHT_GRAD_ROWS, buffers, { N, Cin, H, W, Cout, OH, OW, KH, pad, hasBias: db ? 1 : 0, rowsPerSplit }, {
      consts: { TM: tm, KW: g.KW, S: g.stride, KEEP: Math.max(g.KW - g.stride, 0), REFLECT: !!g.reflect, ACC: acc && splits === 1, WG: v.wg, X: xStorage(g) },
      groups: [...groups, splits],
    });
  });
}

/** Split-K for the register weight-gradient shaders (bindings x, dy, dw, db; split z writes slice z of dw and db):
 * splits the N·OH output rows until `groups` (workgroups along x and y) fill the adapter, then adds the slices
 * (to dw and db with acc: the kernel itself adds only when there is one split), both in one dispatch where dw and db
 * lie in one buffer. */
type WeightGradBuffers = { x: GPUBufferBinding; dy: GPUBufferBinding; dw: GPUBufferBinding; db: GPUBufferBinding };

function splitWeightGrad(g: ConvGeometry, groups: [number, number], x: GPUBufferBinding, dy: GPUBufferBinding, dw: GPUBufferBinding, db: Tensor | null, acc: boolean, dispatch: (buffers: WeightGradBuffers, splits: number, rowsPerSplit: number) => void): void {
  const rows = g.N * g.OH;
  const splits = splitCount(groups[0] * groups[1], rows);
  if (splits === 1) {
    // db needs a buffer of its own even when unused (writable bindings may not alias).
    const unused = db ? null : Tensor.empty([1, g.Cout]);
    dispatch({ x, dy, dw, db: (db ?? unused!).binding }, 1, rows);
    unused?.dispose();
    return;
  }
  // The slices of dw and db in one buffer (db's from the next aligned offset), so that where dw and db lie in one
  // buffer (an optimizer's gradient arena) a single dispatch adds both.
  const nW = g.Cout * g.Cin * g.KH * g.KW;
  const [, dbAt, total] = alignedOffsets([splits * nW, splits * g.Cout]);
  const part = Tensor.empty([total]);
  const dwPart = part.slice(0, [splits, nW]);
  const dbPart = part.slice(dbAt, [splits, g.Cout]);
  dispatch({ x, dy, dw: dwPart.binding, db: dbPart.binding }, splits, Math.ceil(rows / splits));
  const both = db ? spanning(dw, db.binding) : null;
  if (both) {
    reduceSplits(part.binding, both.span, nW, splits, acc, 'f32', { n: g.Cout, partAt: dbAt, outAt: both.bAt });
  } else {
    reduceSplits(dwPart.binding, dw, nW, splits, acc);
    if (db) reduceSplits(dbPart.binding, db.binding, g.Cout, splits, acc);
  }
  for (const t of [dwPart, dbPart, part]) t.dispose();
}

/** FLOPs of the direct convolution g (each of its output pixels meets the whole weight once): its forward, its
 * input gradient and its weight gradient each cost this much. */
function directFlops(g: ConvGeometry): number {
  return 2 * g.N * g.OH * g.OW * g.Cout * g.Cin * g.KH * g.KW;
}

/** y = conv(x, w) (+ b): w [Cout, Cin, KH, KW]. */
export function directGather(g: ConvGeometry, x: GPUBufferBinding, w: GPUBufferBinding, b: GPUBufferBinding | null, y: Tensor): void {
  const v = variantFor('directGather', g, scratchTrial(y.shape, (c, out) => dispatchDirectGather(c, g, x, w, b, out)));
  dispatchDirectGather(v, g, x, w, b, y.storageBinding);
  rt().convFlops += directFlops(g);
}

/** y = convTranspose(x, w) (+ b) with w [Cin, Cout, KH, KW]; here x is the small side [N,Cin,H,W], y [N,Cout,OH,OW]. */
export function phaseGather(g: ConvGeometry, x: GPUBufferBinding, w: GPUBufferBinding, b: GPUBufferBinding | null, y: Tensor): void {
  const v = variantFor('phaseGather', g, scratchTrial(y.shape, (c, out) => dispatchPhaseGather(c, g, x, w, b, out)));
  dispatchPhaseGather(v, g, x, w, b, y.storageBinding);
  // Each input pixel of the transposed convolution meets the whole weight once.
  rt().convFlops += 2 * g.N * g.H * g.W * g.Cin * g.Cout * g.KH * g.KW;
}

/** dw [Cout, Cin, KH, KW] of the direct convolution x [N,Cin,H,W] → dy [N,Cout,OH,OW]; added to `into` (an earlier
 * gradient of the weight that the tape offers, see BackwardFn) when given, which is then returned. `shared`: what
 * the input gradient of the same dy computed (Winograd). */
export function weightGrad(g: ConvGeometry, x: GPUBufferBinding, dy: GPUBufferBinding, into: Tensor | null = null, shared?: WinogradShared, variant = weightGradVariant(g, x, dy)): Tensor {
  const dw = into ?? Tensor.empty([g.Cout, g.Cin, g.KH, g.KW]);
  dispatchWeightGrad(variant, g, x, dy, dw.binding, null, undefined, into !== null, shared);
  rt().convFlops += directFlops(g);
  return dw;
}

/** dw and db [Cout] = Σ over batch and pixels of dy, of the direct convolution, in one pass where the strategy allows;
 * added to `into` when both earlier gradients are given. */
export function weightAndBiasGrad(g: ConvGeometry, x: GPUBufferBinding, dy: Tensor, into: [Tensor | null, Tensor | null] = [null, null], shared?: WinogradShared, variant = weightGradVariant(g, x, dy.savedBinding)): [Tensor, Tensor] {
  const acc = into[0] !== null && into[1] !== null;
  const dw = acc ? into[0]! : Tensor.empty([g.Cout, g.Cin, g.KH, g.KW]);
  const db = acc ? into[1]! : Tensor.empty([g.Cout]);
  dispatchWeightGrad(variant, g, x, dy.savedBinding, dw.binding, db, dy, acc, shared);
  rt().convFlops += directFlops(g);
  return [dw, db];
}

function dispatchBiasGrad(dy: Tensor, db: Tensor, acc: boolean): void {
  const [N, C, H, W] = dy.shape;
  rt().dispatch(BIAS_GRAD, { dy: dy.savedBinding, db: db.binding }, { N, C, HW: H * W }, { reduction: reductionVariant(), groups: [C, 1, 1], consts: { ACC: acc } });
}

/** db [C] = Σ over batch and pixels of dy [N, C, H, W], added to `into` when given. */
export function biasGrad(dy: Tensor, into: Tensor | null = null): Tensor {
  const db = into ?? Tensor.empty([dy.shape[1]]);
  dispatchBiasGrad(dy, db, into !== null);
  return db;
}

export { candidates as convCandidates, pairCandidates as convPairCandidates, WinogradShared };
