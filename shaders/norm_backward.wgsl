// Backward of norm.wgsl (instance_norm and batch_norm): one workgroup per channel c walks the channel's N/P
// statistics groups (group j: planes n = j·P … j·P + P − 1, stats at j·C + c; P = 1 for instance norm, N for batch
// norm). Per group, with x̂ = (x − mean)·rstd, M = P·L and g = dy·act'(y) (the fused activation's derivative, read
// from its output y; x and y are stored as X and Y, f32 or f16): dx = w·rstd·(g − Σg/M − x̂·Σ(g·x̂)/M); over the
// whole channel: dweight = Σ g·x̂, dbias = Σ g. Reductions as in norm.wgsl.

fn grad(i: u32) -> f32 {
  let g = dy[i];
  if (ACT == 1u) { return select(0.0, g, f32(y[i]) > 0.0); }
  if (ACT == 2u) { return select(g * p.slope, g, f32(y[i]) > 0.0); }
  return g;
}

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }
  var w = 1.0;
  if (p.hasWeight != 0u) { w = weight[c]; }
  var sums = vec2f(0.0); // (Σ g, Σ g·x̂) over the channel
  for (var j = 0u; j < p.N / p.P; j++) {
    let mean = stats[2u * (j * p.C + c)];
    let rstd = stats[2u * (j * p.C + c) + 1u];
    var acc = vec2f(0.0);
    for (var n = j * p.P; n < (j + 1u) * p.P; n++) {
      let base = (n * p.C + c) * p.L;
      for (var i = lid; i < p.L; i += WG) {
        let g = grad(base + i);
        acc += vec2f(g, g * (f32(x[base + i]) - mean) * rstd);
      }
    }
    let s = workgroupSum(lid, acc);
    sums += s;
    let k = s / f32(p.P * p.L);
    for (var n = j * p.P; n < (j + 1u) * p.P; n++) {
      let base = (n * p.C + c) * p.L;
      for (var i = lid; i < p.L; i += WG) {
        let xhat = (f32(x[base + i]) - mean) * rstd;
        dx[base + i] = w * rstd * (grad(base + i) - k.x - xhat * k.y);
      }
    }
  }
  if (lid == 0u) {
    dweight[c] = sums.y;
    dbias[c] = sums.x;
  }
}
