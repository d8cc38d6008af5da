// Backward of nearest 2× upsampling: each input element sums the gradients of its 2×2 output block.
struct Params { H: u32, W: u32, n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let ix = i % p.W;
  let rest = i / p.W;
  let iy = rest % p.H;
  let plane = rest / p.H;
  let OW = 2u * p.W;
  let top = (plane * 2u * p.H + 2u * iy) * OW + 2u * ix;
  dx[i] = dy[top] + dy[top + 1u] + dy[top + OW] + dy[top + OW + 1u];
}
