// y = (x − mean) / sqrt(var + eps) · w[c] + b[c] over each (n, c) plane: one workgroup per plane, tree reductions in
// workgroup memory (onnxruntime's instance_norm pattern). Mean first, then centred squares, both over x − x[first]
// so planes with a large mean do not cancel. Writes (mean, rstd) per plane for the backward pass.
struct Params { N: u32, C: u32, L: u32, hasWeight: u32, hasBias: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn workgroupSum(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // everyone has read the total before partial is reused
  return total;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let plane = wid.x + wid.y * nwg.x;
  if (plane >= p.N * p.C) { return; }
  let base = plane * p.L;
  let shift = x[base];
  var acc = 0.0;
  for (var i = lid; i < p.L; i += 256u) { acc += x[base + i] - shift; }
  let m = workgroupSum(lid, acc) / f32(p.L);
  var acc2 = 0.0;
  for (var i = lid; i < p.L; i += 256u) {
    let d = x[base + i] - shift - m;
    acc2 += d * d;
  }
  let rstd = 1.0 / sqrt(workgroupSum(lid, acc2) / f32(p.L) + p.eps);
  let c = plane % p.C;
  var w = 1.0;
  var b = 0.0;
  if (p.hasWeight != 0u) { w = weight[c]; }
  if (p.hasBias != 0u) { b = bias[c]; }
  let a = rstd * w;
  for (var i = lid; i < p.L; i += 256u) { y[base + i] = (x[base + i] - shift - m) * a + b; }
  if (lid == 0u) {
    stats[2u * plane] = shift + m;
    stats[2u * plane + 1u] = rstd;
  }
}
