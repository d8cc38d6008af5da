// out[s] = alpha · sum(input[s·len .. min((s+1)·len, n))): one workgroup per contiguous segment
// (segment_total.wgsl), summed by the tree of 256 on every adapter.

fn term(i: u32) -> f32 {
  return input[i];
}

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let s = wid.x + wid.y * nwg.x;
  if (s >= p.segments) { return; }
  let total = segmentTotal(lid, s);
  if (lid == 0u) { out[s] = total * p.alpha; }
}
