// out[i] = per-element loss (EXPR in x and t); the mean is taken by the shared sum reduction afterwards.
// TARGET is `tgt[i]` for a tensor target or `p.constTarget` for a constant one; in the constant case `tgt` is unused,
// so the auto layout drops binding 3 and only x and out are bound (no tensor upload per call).
struct Params { n: u32, constTarget: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> tgt: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let x = input[i];
  let t = {{TARGET}};
  out[i] = {{EXPR}};
}
