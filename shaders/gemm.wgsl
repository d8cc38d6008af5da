// GEMM ceiling probe (bench/gemm.ts), register-tiled: C[M, N] = A[M, K]·B[K, N], row-major, N a multiple of 4·V.
// A workgroup owns TM rows, so A loads have one address across the workgroup (a broadcast on CPU adapters); each
// invocation owns V vec4 columns and accumulates TM×4V outputs in registers.

fn kernel(wid: vec3u, lid: u32) {
  let m0 = wid.y * TM;
  let n4 = (wid.x * WG + lid) * V;
  let N4 = p.N / 4u;
  if (n4 >= N4) { return; }
  var acc: array<vec4f, TM * V>;
  for (var k = 0u; k < p.K; k++) {
    var bv: array<vec4f, V>;
    for (var j = 0u; j < V; j++) { bv[j] = b[k * N4 + n4 + j]; }
    for (var i = 0u; i < TM; i++) {
      let av = vec4f(a[min(m0 + i, p.M - 1u) * p.K + k]);
      for (var j = 0u; j < V; j++) { acc[i * V + j] = fma(av, bv[j], acc[i * V + j]); }
    }
  }
  for (var i = 0u; i < TM; i++) {
    if (m0 + i >= p.M) { break; }
    for (var j = 0u; j < V; j++) { c[(m0 + i) * N4 + n4 + j] = acc[i * V + j]; }
  }
}
