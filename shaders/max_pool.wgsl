// 2×2 max pooling, stride 2 (odd trailing rows/columns dropped, as PyTorch). One invocation per output element;
// the first maximum in row-major window order wins, as in PyTorch.
struct Params { H: u32, W: u32, OH: u32, OW: u32, n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let ox = i % p.OW;
  let rest = i / p.OW;
  let oy = rest % p.OH;
  let plane = rest / p.OH;
  let base = plane * p.H * p.W + 2u * oy * p.W + 2u * ox;
  y[i] = max(max(x[base], x[base + 1u]), max(x[base + p.W], x[base + p.W + 1u]));
}
