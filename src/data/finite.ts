// NaN and ±Inf in pixel data: only float images can hold them, and every later step (normalisation, training,
// metrics) would turn them into a wrong result without saying why.
import type { Image } from './image.js';

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
