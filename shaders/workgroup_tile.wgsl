// The workgroup-memory tile of the classic GPU GEMM (conv_tiled.wgsl, gemm_tiled.wgsl): a 16×16 workgroup computes
// a BM×BN block of C from BK-deep slices of A (As) and B (Bs) staged in workgroup memory, both k-major and read as
// vec4s; each invocation accumulates RM×RN outputs (RM, RN in {4, 8}). Its rows are the vec4s ty, ty + 16, … of
// the block and its columns tx, tx + 16, …: the 16 invocations along x read 16 consecutive vec4s of Bs, and the
// invocations along y of one warp share theirs of As. BK keeps the two slices within 16 KiB, WebGPU's default.
const BM = 16u * RM;
const BN = 16u * RN;
const BK = select(8u, 16u, BM + BN <= 192u);
var<workgroup> As: array<vec4f, BK * BM / 4u>;
var<workgroup> Bs: array<vec4f, BK * BN / 4u>;
/** Values each of the 256 invocations stages per slice. */
const LOADS_A = BK * BM / 256u;
const LOADS_B = BK * BN / 256u;

/** The block row of the invocation's r-th output row (ty = lid3.y), and likewise its c-th column (tx = lid3.x). */
fn tileRow(ty: u32, r: u32) -> u32 { return (ty + (r / 4u) * 16u) * 4u + r % 4u; }
fn tileCol(tx: u32, c: u32) -> u32 { return (tx + (c / 4u) * 16u) * 4u + c % 4u; }

/** The slice position (kk, m) of A's value i of the BK·BM: consecutive i along k where A is stored k-contiguous
 * (`kFast`, coalesced loads), else along m. */
fn slotA(i: u32, kFast: bool) -> vec2u {
  return select(vec2u(i / BM, i % BM), vec2u(i % BK, i / BK), kFast);
}

fn stageA(kk: u32, m: u32, v: f32) { As[kk * (BM / 4u) + m / 4u][m % 4u] = v; }
fn stageB(kk: u32, n: u32, v: f32) { Bs[kk * (BN / 4u) + n / 4u][n % 4u] = v; }

/** Stages invocation t's fetched values of a slice: A's values t + 256·e at slotA(…, kFast), B's rows t / BN +
 * e·256 / BN of column t % BN (the kernels that fetch scalars: conv_tiled.wgsl, conv_winograd_gemm_tiled.wgsl). */
fn stageSlice(t: u32, kFast: bool, ra: ptr<function, array<f32, LOADS_A>>, rb: ptr<function, array<f32, LOADS_B>>) {
  for (var e = 0u; e < LOADS_A; e++) {
    let at = slotA(t + e * 256u, kFast);
    stageA(at.x, at.y, (*ra)[e]);
  }
  for (var e = 0u; e < LOADS_B; e++) { stageB(t / BN + e * (256u / BN), t % BN, (*rb)[e]); }
}

// acc[r·RN/4 + j][c'] += Σ over the staged slice of A(tileRow(r), kk)·B(kk, tileCol(4j + c')), kk in increasing order.
fn accumulateTile(lid3: vec3u, acc: ptr<function, array<vec4f, RM * RN / 4u>>) {
  for (var kk = 0u; kk < BK; kk++) {
    var av: array<vec4f, RM / 4u>;
    var bv: array<vec4f, RN / 4u>;
    for (var i = 0u; i < RM / 4u; i++) { av[i] = As[kk * (BM / 4u) + lid3.y + i * 16u]; }
    for (var j = 0u; j < RN / 4u; j++) { bv[j] = Bs[kk * (BN / 4u) + lid3.x + j * 16u]; }
    for (var r = 0u; r < RM; r++) {
      let a = vec4f(av[r / 4u][r % 4u]);
      for (var j = 0u; j < RN / 4u; j++) { (*acc)[r * (RN / 4u) + j] = fma(a, bv[j], (*acc)[r * (RN / 4u) + j]); }
    }
  }
}
