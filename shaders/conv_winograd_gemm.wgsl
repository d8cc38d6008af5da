// The 16 GEMMs of a Winograd convolution, one per transformed plane ξ = workgroup z: c[ξ] = a[ξ]·b[ξ] with a [M, K],
// b [K, N], c [M, N] row-major (TRANS_A: a stored [K, M]; the input gradient reads the filter transform so).
// Register-tiled as the direct gather: an invocation owns TM rows × TN consecutive columns, the workgroup's a loads
// share one address (a broadcast on CPU adapters).

fn kernel(gid: vec3u, wid: vec3u) {
  let m0 = wid.y * TM;
  let n0 = gid.x * TN;
  if (n0 >= p.N || m0 >= p.M) { return; }
  let aBase = wid.z * p.M * p.K;
  let bBase = wid.z * p.K * p.N;
  var cols: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { cols[j] = min(n0 + j, p.N - 1u); }
  var rows: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let m = min(m0 + i, p.M - 1u);
    rows[i] = aBase + select(m * p.K, m, TRANS_A);
  }
  let aStep = select(1u, p.M, TRANS_A);
  var acc: array<f32, TM * TN>;
  for (var k = 0u; k < p.K; k++) {
    var bv: array<f32, TN>;
    let bRow = bBase + k * p.N;
    for (var j = 0u; j < TN; j++) { bv[j] = b[bRow + cols[j]]; }
    for (var i = 0u; i < TM; i++) {
      let av = a[rows[i] + k * aStep];
      for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(av, bv[j], acc[i * TN + j]); }
    }
  }
  for (var i = 0u; i < TM; i++) {
    if (m0 + i >= p.M) { break; }
    let row = (wid.z * p.M + m0 + i) * p.N;
    for (var j = 0u; j < TN; j++) {
      if (n0 + j < p.N) { c[row + n0 + j] = acc[i * TN + j]; }
    }
  }
}
