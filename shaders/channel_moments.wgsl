// Mean and sum of squared deviations (M2) of each channel plane of a C × L map, written to m[slot][c] = (mean, M2):
// one band's share of whole-map instance-norm statistics, combined across bands in f64 (Chan et al.). Over
// x − x[first] as in norm.wgsl, in one pass over x (welford.wgsl). x is stored as SRC (f32 or f16); sums are in f32. One workgroup
// per channel.

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }
  let base = c * p.L;
  let shift = f32(x[base]);
  var w = Welford(0.0, 0.0, 0.0);
  for (var i = lid; i < p.L; i += WG) { w = welfordAdd(w, f32(x[base + i]) - shift); }
  let stats = welfordMerge(lid, w, f32(p.L));
  if (lid == 0u) {
    let o = 2u * (p.slot * p.C + c);
    m[o] = shift + stats.x;
    m[o + 1u] = stats.y;
  }
}
