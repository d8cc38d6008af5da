// Bias gradient of a convolution: db[c] = Σ_{n, pixels} dy[n, c, pixel]. One workgroup per channel, a strided
// partial sum per invocation, then the workgroup reduction of norm.wgsl (subgroup or tree).
{{ENABLE}}
const WG = {{WG}}u;
struct Params { N: u32, C: u32, HW: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;
var<workgroup> partial: array<f32, WG>;

fn workgroupSum(lid: u32, v: f32) -> f32 {
{{SUM}}
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let c = wid.x;
  var s = 0.0;
  for (var n = 0u; n < p.N; n++) {
    let base = (n * p.C + c) * p.HW;
    for (var i = lid; i < p.HW; i += WG) { s += dy[base + i]; }
  }
  let total = workgroupSum(lid, s);
  if (lid == 0u) { db[c] = total; }
}
