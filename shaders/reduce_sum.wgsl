// out[s] = alpha * sum(input[s*len .. min((s+1)*len, n))): one workgroup per contiguous segment, tree reduction in
// workgroup memory (the onnxruntime instance-norm pattern).
struct Params { len: u32, segments: u32, n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = wid.x + wid.y * nwg.x;
  if (s >= p.segments) { return; }
  let base = s * p.len;
  let end = min(base + p.len, p.n);
  var acc = 0.0;
  for (var i = base + lid; i < end; i += 256u) {
    acc += input[i];
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[s] = partial[0] * p.alpha; }
}
