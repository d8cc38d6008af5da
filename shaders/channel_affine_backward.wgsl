// dx[n, k, q] = Σ over output channels c with src[c] = k of scale[c] · dy[n, c, q] (a channel may feed several).
struct Params { n: u32, cin: u32, cout: u32, plane: u32, src: vec4u, scale: vec4f, shift: vec4f }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let q = i % p.plane;
  let k = (i / p.plane) % p.cin;
  let b = i / (p.plane * p.cin);
  var acc = 0.0;
  for (var c = 0u; c < p.cout; c++) {
    if (p.src[c] == k) { acc += p.scale[c] * dy[(b * p.cout + c) * p.plane + q]; }
  }
  dx[i] = acc;
}
