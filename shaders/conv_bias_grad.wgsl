// Bias gradient of a convolution: db[c] = Σ_{n, pixels} dy[n, c, pixel]. One workgroup per channel, a strided
// partial sum per invocation, then workgroupSum (subgroup or tree, shaders/workgroup_sum_*.wgsl). ACC: added to db.

fn kernel(lid: u32, wid: vec3u) {
  let c = wid.x;
  var s = 0.0;
  for (var n = 0u; n < p.N; n++) {
    let base = (n * p.C + c) * p.HW;
    for (var i = lid; i < p.HW; i += WG) { s += dy[base + i]; }
  }
  let total = workgroupSum(lid, s);
  if (lid == 0u) { db[c] = select(total, total + db[c], ACC); }
}
