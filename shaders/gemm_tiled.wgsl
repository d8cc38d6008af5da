// GEMM ceiling probe (bench/gemm.ts), workgroup-memory tiled (the classic GPU kernel, shaders/workgroup_tile.wgsl):
// C = A·B, row-major, K and N multiples of 4: A read as vec4s along k, B and C as vec4s along n. Each slice's values
// are fetched into registers while the previous slice is being multiplied.

const VA = BM * BK / 1024u; // vec4s of A's slice per invocation
const VB = BK * BN / 1024u;

fn fetchSlice(k0: u32, m0: u32, n0: u32, t: u32, ra: ptr<function, array<vec4f, VA>>, rb: ptr<function, array<vec4f, VB>>) {
  let K4 = p.K / 4u;
  let N4 = p.N / 4u;
  for (var e = 0u; e < VA; e++) {
    let i = t + e * 256u;
    let m = m0 + i / (BK / 4u);
    let k4 = k0 / 4u + i % (BK / 4u);
    (*ra)[e] = select(vec4f(), a[min(m, p.M - 1u) * K4 + min(k4, K4 - 1u)], m < p.M && k4 < K4);
  }
  for (var e = 0u; e < VB; e++) {
    let i = t + e * 256u;
    let k = k0 + i / (BN / 4u);
    let n4 = n0 / 4u + i % (BN / 4u);
    (*rb)[e] = select(vec4f(), b[min(k, p.K - 1u) * N4 + min(n4, N4 - 1u)], k < p.K && n4 < N4);
  }
}

fn kernel(lid3: vec3u, wid: vec3u) {
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let t = lid3.y * 16u + lid3.x;
  var ra: array<vec4f, VA>;
  var rb: array<vec4f, VB>;
  var acc: array<vec4f, RM * RN / 4u>;
  fetchSlice(0u, m0, n0, t, &ra, &rb);
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var e = 0u; e < VA; e++) {
      let i = t + e * 256u;
      for (var c = 0u; c < 4u; c++) { stageA((i % (BK / 4u)) * 4u + c, i / (BK / 4u), ra[e][c]); }
    }
    for (var e = 0u; e < VB; e++) {
      let i = t + e * 256u;
      Bs[(i / (BN / 4u)) * (BN / 4u) + i % (BN / 4u)] = rb[e];
    }
    workgroupBarrier();
    if (k0 + BK < p.K) { fetchSlice(k0 + BK, m0, n0, t, &ra, &rb); }
    accumulateTile(lid3, &acc);
    workgroupBarrier();
  }
  for (var r = 0u; r < RM; r++) {
    let m = m0 + tileRow(lid3.y, r);
    for (var j = 0u; j < RN / 4u; j++) {
      let n = n0 + tileCol(lid3.x, 4u * j);
      if (m < p.M && n < p.N) { c[(m * p.N + n) / 4u] = acc[r * (RN / 4u) + j]; }
    }
  }
}
