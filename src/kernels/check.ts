// Argument checks shared by the ops: messages say what was expected and what was given.
import { Tensor, fmtShape, type DType } from '../graph/tensor.js';

export function live(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) {
    if (!(t instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
    t.assertLive(op);
  }
}

export function sameShape(op: string, a: Tensor, b: Tensor): void {
  live(op, a, b);
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes must match, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
}

export function rank(op: string, t: Tensor, expected: number, what = 'input'): void {
  live(op, t);
  if (t.rank !== expected) {
    throw new Error(`${op}: ${what} must have rank ${expected}${expected === 4 ? ' (N, C, H, W)' : ''}, got ${fmtShape(t.shape)}`);
  }
}

export function positiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${v}`);
}

export function nonNegativeInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${name} must be a non-negative integer, got ${v}`);
}

/** A per-channel vector such as a norm's weight: rank 1 with exactly n elements. */
export function vectorOfLength(op: string, what: string, t: Tensor, n: number): void {
  live(op, t);
  if (t.rank !== 1 || t.size !== n) throw new Error(`${op}: ${what} must have shape [${n}], got ${fmtShape(t.shape)}`);
}

/** The 2×2, stride-2 pooling window of x [N, C, H, W] (H, W ≥ 2): odd trailing rows and columns are dropped. */
export function pool2x2Geometry(op: string, x: Tensor): { H: number; W: number; OH: number; OW: number; out: number[] } {
  rank(op, x, 4);
  const [N, C, H, W] = x.shape;
  if (H < 2 || W < 2) throw new Error(`${op}: input height and width must be at least 2, got ${x.describe()}`);
  const OH = Math.floor(H / 2);
  const OW = Math.floor(W / 2);
  return { H, W, OH, OW, out: [N, C, OH, OW] };
}

/** An output's storage option (f16 maps): 'f32' (default) or 'f16'. */
export function storageOption(op: string, storage: unknown): DType {
  if (storage === undefined || storage === 'f32' || storage === 'f16') return storage ?? 'f32';
  throw new Error(`${op}: storage must be 'f32' or 'f16', got ${JSON.stringify(storage)}`);
}
