// IEEE binary16 for the f16 storage oracles: rounding to nearest even (Math.fround is binary32), decoding, the
// spacing of f16 values, and GPU buffers of f16 tensors written and read as raw bits.
import type { TestContext } from 'vitest';
import { rt } from '../../src/graph/runtime.js';
import { Tensor, type Shape } from '../../src/graph/tensor.js';

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/** The f16 bits nearest to x (ties to even; beyond the largest finite value, infinity). */
export function f16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal (1024 carries into the smallest normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  // A mantissa that rounds up to 2048 carries into the exponent, as the bits add.
  return sign | (((e + 15) << 10) + roundHalfEven(a * 2 ** (10 - e)) - 1024);
}

export function fromF16Bits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

export const f16Round = (x: number): number => fromF16Bits(f16Bits(x));

/** Distance between consecutive f16 values around x (finite, |x| ≤ 65504). */
export function f16Ulp(x: number): number {
  const a = Math.abs(x);
  return a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10);
}

/** An f16 tensor holding the f16 rounding of values (an even count: queue writes are whole 4-byte words). */
export function f16Tensor(values: ArrayLike<number>, shape: Shape): Tensor {
  const t = Tensor.empty(shape, 'f16');
  rt().write(t.storageBinding, Uint16Array.from(values, f16Bits));
  return t;
}

/** The values of an f16 tensor. */
export async function f16Data(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(new Uint16Array(await rt().read(t.storageBinding, t.bytes)), fromF16Bits);
}

/** Skips the calling test, saying why, where the adapter has no shader-f16 (Dawn's Vulkan adapter on NVIDIA GPUs
 * exposes none): f16 storage cannot run there, and the f32 paths are tested on their own. */
export function skipWithoutF16(ctx: TestContext): void {
  const { features, adapterName } = rt().gpu;
  ctx.skip(!features.has('shader-f16'), `f16 storage needs shader-f16, which ${adapterName} does not have`);
}
