// The sum over workgroup `s`'s segment, elements [s·len, min((s+1)·len, n)), of term(i), which the including kernel
// defines: each invocation adds every WG-th element, then the workgroup's partial sums are added (workgroupSum).

fn segmentTotal(lid: u32, s: u32) -> f32 {
  let base = s * p.len;
  let end = min(base + p.len, p.n);
  var acc = 0.0;
  for (var i = base + lid; i < end; i += WG) { acc += term(i); }
  return workgroupSum(lid, acc);
}
