// The GEMMs of a Winograd convolution as conv_winograd_gemm.wgsl computes them (same operands, offsets and second
// set), in workgroup-memory tiles for GPUs (workgroup_tile.wgsl): a 16×16 workgroup owns a BM×BN block of plane
// ξ = workgroup z, staging BK-deep slices of a and b; each slice is fetched into registers while the previous one is
// multiplied. a's values are fetched along k where it is stored [M, K], along m where transposed ([K, M]), so that
// consecutive invocations read consecutive addresses; b's along n.

fn kernel(lid3: vec3u, wid: vec3u) {
  let g = gemmPlane(wid.z);
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  // Uniform per workgroup: the whole workgroup leaves (the grid covers the larger set's blocks).
  if (m0 >= g.M || n0 >= g.N) { return; }
  let t = lid3.y * 16u + lid3.x;
  var ra: array<f32, LOADS_A>;
  var rb: array<f32, LOADS_B>;
  var acc: array<vec4f, RM * RN / 4u>;
  fetchSlice(0u, t, m0, n0, g, &ra, &rb);
  for (var k0 = 0u; k0 < g.K; k0 += BK) {
    stageSlice(t, !g.transA, &ra, &rb);
    workgroupBarrier();
    if (k0 + BK < g.K) { fetchSlice(k0 + BK, t, m0, n0, g, &ra, &rb); }
    accumulateTile(lid3, &acc);
    workgroupBarrier();
  }
  for (var r = 0u; r < RM; r++) {
    let m = m0 + tileRow(lid3.y, r);
    if (m >= g.M) { continue; }
    for (var col = 0u; col < RN; col++) {
      let n = n0 + tileCol(lid3.x, col);
      if (n < g.N) { c[g.c + m * g.N + n] = acc[r * (RN / 4u) + col / 4u][col % 4u]; }
    }
  }
}

/** The invocation's values of a's and b's slices from row k0 (0 outside the operands). */
fn fetchSlice(k0: u32, t: u32, m0: u32, n0: u32, g: GemmPlane, ra: ptr<function, array<f32, LOADS_A>>, rb: ptr<function, array<f32, LOADS_B>>) {
  for (var e = 0u; e < LOADS_A; e++) {
    let at = slotA(t + e * 256u, !g.transA);
    let k = min(k0 + at.x, g.K - 1u);
    let m = min(m0 + at.y, g.M - 1u);
    let i = g.a + select(m * g.K + k, k * g.M + m, g.transA);
    (*ra)[e] = select(0.0, a[i], m0 + at.y < g.M && k0 + at.x < g.K);
  }
  for (var e = 0u; e < LOADS_B; e++) {
    let k = k0 + t / BN + e * (256u / BN);
    let n = n0 + t % BN;
    (*rb)[e] = select(0.0, b[g.b + min(k, g.K - 1u) * g.N + min(n, g.N - 1u)], k < g.K && n < g.N);
  }
}
