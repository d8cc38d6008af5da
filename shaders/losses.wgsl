// A mean-reduced loss in one pass: out[s] = alpha · Σ over segment s (segment_total.wgsl) of the per-element loss
// EXPR in x and t, summed as reduce_sum.wgsl sums. One segment (alpha = 1/n) is the loss itself; a large input's
// segments are added by reduce_sum afterwards. TARGET is `tgt[i]` for a tensor target or `p.constTarget` for a
// constant one (then tgt is unused and unbound).

fn term(i: u32) -> f32 {
  let x = input[i];
  let t = {{TARGET}};
  return {{EXPR}};
}

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let s = wid.x + wid.y * nwg.x;
  if (s >= p.segments) { return; }
  let total = segmentTotal(lid, s);
  if (lid == 0u) { out[s] = total * p.alpha; }
}
