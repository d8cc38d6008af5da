// Dropout with a counter-based mask: element i is kept iff hash32(i, seed) ≥ threshold (= floor(p·2³²)), kept values
// scaled by 1/(1 − p). The mask depends only on (i, seed), so the backward pass is this same kernel applied to dy.

// hash32 of src/graph/random.ts (u32 arithmetic wraps like Math.imul).
fn hash32(index: u32, seed: u32) -> u32 {
  var h = index * 0x9e3779b1u + seed * 0x85ebca77u;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn kernel(i: u32) {
  y[i] = select(0.0, x[i] * p.scale, hash32(i, p.seed) >= p.threshold);
}
