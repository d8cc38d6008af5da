// The workgroup-memory tile of the classic GPU GEMM (conv_tiled.wgsl, gemm_tiled.wgsl): a 16×16 workgroup computes
// a BM×BN block of C from BK-deep slices of A (As) and B (Bs) staged in workgroup memory, both k-major; each
// invocation accumulates 4×4 outputs.
const BM = 64u;
const BN = 64u;
const BK = 16u;
var<workgroup> As: array<f32, BK * BM>;
var<workgroup> Bs: array<f32, BK * BN>;

// acc[i·4 + j] += Σ over the staged slice of As[kk, lid3.y·4 + i]·Bs[kk, lid3.x·4 + j], kk in increasing order.
fn accumulateTile(lid3: vec3u, acc: ptr<function, array<f32, 16>>) {
  for (var kk = 0u; kk < BK; kk++) {
    var av: array<f32, 4>;
    var bv: array<f32, 4>;
    for (var i = 0u; i < 4u; i++) { av[i] = As[kk * BM + lid3.y * 4u + i]; }
    for (var j = 0u; j < 4u; j++) { bv[j] = Bs[kk * BN + lid3.x * 4u + j]; }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) { (*acc)[i * 4u + j] = fma(av[i], bv[j], (*acc)[i * 4u + j]); }
    }
  }
}
