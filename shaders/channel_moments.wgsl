// Mean and sum of squared deviations (M2) of each channel plane of a C × L map, written to m[slot][c] = (mean, M2):
// one band's share of whole-map instance-norm statistics, combined across bands in f64 (Chan et al.). Over
// x − x[first] as in norm.wgsl, in one pass over x. x is stored as SRC (f32 or f16); sums are in f32. One workgroup
// per channel.

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }
  let base = c * p.L;
  let shift = f32(x[base]);
  // One pass: each invocation's Welford mean and M2 of its strided share, merged over the workgroup (Chan et al.).
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var i = lid; i < p.L; i += WG) {
    let d = f32(x[base + i]) - shift;
    n += 1.0;
    let delta = d - mean;
    mean += delta / n;
    m2 += delta * (d - mean);
  }
  let total = workgroupSum(lid, n * mean) / f32(p.L);
  let spread = mean - total;
  let sum2 = workgroupSum(lid, m2 + n * spread * spread);
  if (lid == 0u) {
    let o = 2u * (p.slot * p.C + c);
    m[o] = shift + total;
    m[o + 1u] = sum2;
  }
}
