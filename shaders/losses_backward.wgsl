// One gradient of a mean-reduced loss: out[i] = EXPR in x, t and s = dL/dloss / n (the upstream scalar g[0]
// times 1/n). Called once for d/dx and once for d/dtarget when each is needed; TARGET as in losses.wgsl.
struct Params { n: u32, constTarget: f32, invN: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> input: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> tgt: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let x = input[i];
  let t = {{TARGET}};
  let s = g[0] * p.invN;
  out[i] = {{EXPR}};
}
