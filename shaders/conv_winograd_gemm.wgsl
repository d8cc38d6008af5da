// The GEMMs of a Winograd convolution, one per transformed plane ξ = workgroup z: c[ξ] = a[ξ]·b[ξ] with a [M, K],
// b [K, N], c [M, N] row-major (transA: a stored [K, M]; the input gradient reads the filter transform so), each
// operand from its element offset (aAt, bAt, cAt) of its binding. Planes from `planes` on compute a second set of
// GEMMs (M2 … transA2, winograd_gemm_plane.wgsl; a layer's weight and input gradients in one dispatch, their operands
// in one buffer).
// Register-tiled as the direct gather: an invocation owns TM rows × TN consecutive columns, the workgroup's a loads
// share one address (a broadcast on CPU adapters).

fn kernel(gid: vec3u, wid: vec3u) {
  let g = gemmPlane(wid.z);
  let M = g.M;
  let N = g.N;
  let m0 = wid.y * TM;
  let n0 = gid.x * TN;
  if (n0 >= N || m0 >= M) { return; }
  var cols: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { cols[j] = min(n0 + j, N - 1u); }
  var rows: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let m = min(m0 + i, M - 1u);
    rows[i] = g.a + select(m * g.K, m, g.transA);
  }
  let aStep = select(1u, M, g.transA);
  var acc: array<f32, TM * TN>;
  for (var k = 0u; k < g.K; k++) {
    var bv: array<f32, TN>;
    let bRow = g.b + k * N;
    for (var j = 0u; j < TN; j++) { bv[j] = b[bRow + cols[j]]; }
    for (var i = 0u; i < TM; i++) {
      let av = a[rows[i] + k * aStep];
      for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(av, bv[j], acc[i * TN + j]); }
    }
  }
  for (var i = 0u; i < TM; i++) {
    if (m0 + i >= M) { break; }
    let row = g.c + (m0 + i) * N;
    for (var j = 0u; j < TN; j++) {
      if (n0 + j < N) { c[row + n0 + j] = acc[i * TN + j]; }
    }
  }
}
