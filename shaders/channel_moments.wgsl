// Mean and sum of squared deviations (M2) of each channel plane of a C × L map, written to m[slot][c] = (mean, M2):
// one band's share of whole-map instance-norm statistics, combined across bands in f64 (Chan et al.). Mean first,
// then centred squares, both over x − x[first] as in norm.wgsl. x is stored as SRC (f32 or f16); sums are in f32.
// One workgroup per channel.

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }
  let base = c * p.L;
  let shift = f32(x[base]);
  var acc = 0.0;
  for (var i = lid; i < p.L; i += WG) { acc += f32(x[base + i]) - shift; }
  let mean = workgroupSum(lid, acc) / f32(p.L);
  var acc2 = 0.0;
  for (var i = lid; i < p.L; i += WG) {
    let d = f32(x[base + i]) - shift - mean;
    acc2 += d * d;
  }
  let m2 = workgroupSum(lid, acc2);
  if (lid == 0u) {
    let o = 2u * (p.slot * p.C + c);
    m[o] = shift + mean;
    m[o + 1u] = m2;
  }
}
