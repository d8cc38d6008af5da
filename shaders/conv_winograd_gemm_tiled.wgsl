// The GEMMs of a Winograd convolution as conv_winograd_gemm.wgsl computes them (same operands, offsets and second
// set), in workgroup-memory tiles for GPUs (workgroup_tile.wgsl): a 16×16 workgroup owns a BM×BN block of plane
// ξ = workgroup z, staging BK-deep slices of a and b; each slice is fetched into registers while the previous one is
// multiplied. a's values are fetched along k where it is stored [M, K], along m where transposed ([K, M]), so that
// consecutive invocations read consecutive addresses; b's along n.

fn kernel(lid3: vec3u, wid: vec3u) {
  let second = wid.z >= p.planes;
  let z = select(wid.z, wid.z - p.planes, second);
  let M = select(p.M, p.M2, second);
  let N = select(p.N, p.N2, second);
  let K = select(p.K, p.K2, second);
  let transA = select(p.transA, p.transA2, second) != 0u;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  // Uniform per workgroup: the whole workgroup leaves (the grid covers the larger set's blocks).
  if (m0 >= M || n0 >= N) { return; }
  let aBase = select(p.aAt, p.aAt2, second) + z * M * K;
  let bBase = select(p.bAt, p.bAt2, second) + z * K * N;
  let cBase = select(p.cAt, p.cAt2, second) + z * M * N;
  let t = lid3.y * 16u + lid3.x;
  var ra: array<f32, LOADS_A>;
  var rb: array<f32, LOADS_B>;
  var acc: array<vec4f, RM * RN / 4u>;
  fetchSlice(0u, t, m0, n0, M, N, K, transA, aBase, bBase, &ra, &rb);
  for (var k0 = 0u; k0 < K; k0 += BK) {
    for (var e = 0u; e < LOADS_A; e++) {
      let at = slotA(t + e * 256u, !transA);
      stageA(at.x, at.y, ra[e]);
    }
    for (var e = 0u; e < LOADS_B; e++) { stageB(t / BN + e * (256u / BN), t % BN, rb[e]); }
    workgroupBarrier();
    if (k0 + BK < K) { fetchSlice(k0 + BK, t, m0, n0, M, N, K, transA, aBase, bBase, &ra, &rb); }
    accumulateTile(lid3, &acc);
    workgroupBarrier();
  }
  for (var r = 0u; r < RM; r++) {
    let m = m0 + tileRow(lid3.y, r);
    if (m >= M) { continue; }
    for (var col = 0u; col < RN; col++) {
      let n = n0 + tileCol(lid3.x, col);
      if (n < N) { c[cBase + m * N + n] = acc[r * (RN / 4u) + col / 4u][col % 4u]; }
    }
  }
}

/** The invocation's values of a's and b's slices from row k0 (0 outside the operands). */
fn fetchSlice(k0: u32, t: u32, m0: u32, n0: u32, M: u32, N: u32, K: u32, transA: bool, aBase: u32, bBase: u32, ra: ptr<function, array<f32, LOADS_A>>, rb: ptr<function, array<f32, LOADS_B>>) {
  for (var e = 0u; e < LOADS_A; e++) {
    let at = slotA(t + e * 256u, !transA);
    let k = k0 + at.x;
    let m = m0 + at.y;
    let i = aBase + select(min(m, M - 1u) * K + min(k, K - 1u), min(k, K - 1u) * M + min(m, M - 1u), transA);
    (*ra)[e] = select(0.0, a[i], m < M && k < K);
  }
  for (var e = 0u; e < LOADS_B; e++) {
    let k = k0 + t / BN + e * (256u / BN);
    let n = n0 + t % BN;
    (*rb)[e] = select(0.0, b[bBase + min(k, K - 1u) * N + min(n, N - 1u)], k < K && n < N);
  }
}
