// dx = f'(·) * dy elementwise; EXPR reads g (= dy), v (the saved input x or output y) and p.alpha.
struct Params { n: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> saved: array<f32>;
@group(0) @binding(2) var<storage, read> gradOut: array<f32>;
@group(0) @binding(3) var<storage, read_write> gradIn: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let v = saved[i];
  let g = gradOut[i];
  gradIn[i] = {{EXPR}};
}
