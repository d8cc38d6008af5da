// Counter-based random numbers: value i depends only on (seed, i), so Python fixture scripts, tests and
// model initialisation reproduce identical arrays without shipping them (scripts/fixtures/common.py mirrors this).

/** 32-bit mix of (index, seed) (a murmur3-style finaliser). */
export function hash32(index: number, seed: number): number {
  let h = (Math.imul(index >>> 0, 0x9e3779b1) + Math.imul(seed >>> 0, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** count values uniform in [-scale, scale), rounded to float32. */
export function hashUniform(count: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = ((2 * hash32(i, seed)) / 4294967296 - 1) * scale;
  return out;
}

/** count standard-normal values (Box–Muller over two hash streams), times std. */
export function hashNormal(count: number, seed: number, std = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u1 = (hash32(i, seed) + 0.5) / 4294967296;
    const u2 = (hash32(i, seed ^ 0x5bd1e995) + 0.5) / 4294967296;
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2) * std;
  }
  return out;
}
