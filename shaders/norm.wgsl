// Forward of instance_norm and batch_norm: y = act((x − mean_g) / sqrt(var_g + eps) · w[c] + b[c]) (+ r), where group
// g gathers P planes of length L: plane k of g starts at (k·C + g)·L and has channel c = g mod C. Instance norm: one
// plane per (n, c), P = 1, G = N·C; training-mode batch norm: P = N planes per channel, G = C (biased variance).
// One workgroup of WG invocations per group. Mean and centred squares in one pass (welford.wgsl), over x − x[first] so
// groups with a large mean do not cancel. Writes (mean, rstd) per group for the backward pass. Sums are workgroupSum: a subgroup
// reduction when the whole workgroup is one subgroup (CPU adapters: no barriers), else a tree in workgroup memory. ACT: 0 none, 1 ReLU, 2 leaky ReLU (slope); RES: 1 adds the residual r. x, r and y are stored as X, R and Y (f32
// or f16 maps; values are computed in f32 and rounded to Y when written).

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.G) { return; }
  let c = g % p.C;
  let shift = f32(x[g * p.L]);
  let count = f32(p.P * p.L);
  var acc = Welford(0.0, 0.0, 0.0);
  for (var k = 0u; k < p.P; k++) {
    let base = (k * p.C + g) * p.L;
    for (var i = lid; i < p.L; i += WG) { acc = welfordAdd(acc, f32(x[base + i]) - shift); }
  }
  let moments = welfordMerge(lid, acc, count);
  let m = moments.x;
  let rstd = 1.0 / sqrt(moments.y / count + p.eps);
  var w = 1.0;
  var b = 0.0;
  if (p.hasWeight != 0u) { w = weight[c]; }
  if (p.hasBias != 0u) { b = bias[c]; }
  let a = rstd * w;
  for (var k = 0u; k < p.P; k++) {
    let base = (k * p.C + g) * p.L;
    for (var i = lid; i < p.L; i += WG) {
      var v = (f32(x[base + i]) - shift - m) * a + b;
      if (ACT == 1u) { v = max(v, 0.0); }
      if (ACT == 2u) { v = select(v * p.slope, v, v > 0.0); }
      if (RES == 1u) { v += f32(r[base + i]); }
      y[base + i] = Y(v);
    }
  }
  if (lid == 0u) {
    stats[2u * g] = shift + m;
    stats[2u * g + 1u] = rstd;
  }
}
