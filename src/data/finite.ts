// NaN and ±Inf in pixel data: only float images can hold them, and every later step (normalisation, training,
// metrics) would turn them into a wrong result without saying why.
import type { Image } from './image_type.js';
import type { NamedArray } from '../io/safetensors.js';

export function countNonFiniteValues(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) n++;
  return n;
}

/** Throws "WHAT is all NaN/Inf: WHY" or "WHAT has N NaN/Inf values of M: WHY" for a float image that holds any. */
export function checkFiniteImage(img: Image, what: string, why: string): void {
  if (img.bitDepth !== 32) return;
  const n = countNonFiniteValues(img.data);
  if (n === 0) return;
  throw new Error(`${what} ${n === img.data.length ? 'is all NaN/Inf' : `has ${n} NaN/Inf value(s) of ${img.data.length}`}: ${why}`);
}

/** Null if every array is finite, else which hold NaN / Inf (for messages). */
export function nonFiniteArrays(tensors: Record<string, NamedArray>): string | null {
  const bad = Object.entries(tensors).map(([name, t]) => [name, countNonFiniteValues(t.data)] as const).filter(([, n]) => n > 0);
  if (bad.length === 0) return null;
  const [name, n] = bad[0];
  return `${n} NaN/Inf value(s) in '${name}'${bad.length > 1 ? ` and ${bad.length - 1} more tensor(s)` : ''}`;
}
