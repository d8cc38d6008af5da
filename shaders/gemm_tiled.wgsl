// GEMM ceiling probe (bench/gemm.ts), workgroup-memory tiled (the classic GPU kernel): a 16×16 workgroup computes
// a 64×64 block of C = A·B, staging 16-deep slices of A and B in workgroup memory; 4×4 outputs per invocation.
const BM = 64u;
const BN = 64u;
const BK = 16u;
var<workgroup> As: array<f32, BK * BM>;
var<workgroup> Bs: array<f32, BK * BN>;

fn kernel(lid3: vec3u, wid: vec3u) {
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let t = lid3.y * 16u + lid3.x;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var e = 0u; e < 4u; e++) {
      let idx = t + e * 256u;
      let kk = idx / BM;
      let mm = idx % BM;
      let ka = idx % BK;
      let ma = idx / BK;
      As[ka * BM + ma] = select(0.0, a[(m0 + ma) * p.K + k0 + ka], m0 + ma < p.M && k0 + ka < p.K);
      Bs[kk * BN + mm] = select(0.0, b[(k0 + kk) * p.N + n0 + mm], k0 + kk < p.K && n0 + mm < p.N);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { av[i] = As[kk * BM + lid3.y * 4u + i]; }
      for (var j = 0u; j < 4u; j++) { bv[j] = Bs[kk * BN + lid3.x * 4u + j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = fma(av[i], bv[j], acc[i * 4u + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let m = m0 + lid3.y * 4u + i;
      let n = n0 + lid3.x * 4u + j;
      if (m < p.M && n < p.N) { c[m * p.N + n] = acc[i * 4u + j]; }
    }
  }
}
