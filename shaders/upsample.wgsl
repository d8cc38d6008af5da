// Nearest-neighbour 2× upsampling: output (oy, ox) copies input (oy / 2, ox / 2) of the same plane.
struct Params { H: u32, W: u32, n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let OW = 2u * p.W;
  let ox = i % OW;
  let rest = i / OW;
  let oy = rest % (2u * p.H);
  let plane = rest / (2u * p.H);
  y[i] = x[(plane * p.H + oy / 2u) * p.W + ox / 2u];
}
