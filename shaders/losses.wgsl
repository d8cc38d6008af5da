// A mean-reduced loss in one pass: out[s] = alpha · Σ over segment s (elements [s·len, min((s+1)·len, n))) of the
// per-element loss EXPR in x and t, summed as reduce_sum.wgsl sums (the tree of 256). One segment (alpha = 1/n) is
// the loss itself; a large input's segments are added by reduce_sum afterwards. TARGET is `tgt[i]` for a tensor
// target or `p.constTarget` for a constant one (then tgt is unused and unbound).

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let s = wid.x + wid.y * nwg.x;
  if (s >= p.segments) { return; }
  let base = s * p.len;
  let end = min(base + p.len, p.n);
  var acc = 0.0;
  for (var i = base + lid; i < end; i += WG) {
    let x = input[i];
    let t = {{TARGET}};
    acc += {{EXPR}};
  }
  let total = workgroupSum(lid, acc);
  if (lid == 0u) { out[s] = total * p.alpha; }
}
