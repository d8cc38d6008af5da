// GEMM ceiling probe (bench/gemm.ts), workgroup-memory tiled (the classic GPU kernel, shaders/workgroup_tile.wgsl):
// C = A·B, row-major.

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
    accumulateTile(lid3, &acc);
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
