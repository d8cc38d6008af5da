// out[s] = alpha · sum(input[s·len .. min((s+1)·len, n))): one workgroup per contiguous segment, summed by the
// tree of 256 on every adapter.

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let s = wid.x + wid.y * nwg.x;
  if (s >= p.segments) { return; }
  let base = s * p.len;
  let end = min(base + p.len, p.n);
  var acc = 0.0;
  for (var i = base + lid; i < end; i += WG) { acc += input[i]; }
  let total = workgroupSum(lid, acc);
  if (lid == 0u) { out[s] = total * p.alpha; }
}
