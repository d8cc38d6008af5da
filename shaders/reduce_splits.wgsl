// Sum of the split-K slices of a weight gradient: out[i] = Σ_s part[s·n + i], s in increasing order.
struct Params { n: u32, splits: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.splits; k++) { s += part[k * p.n + i]; }
  out[i] = s;
}
