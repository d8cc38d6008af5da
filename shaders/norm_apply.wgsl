// y = (x − mean[c]) · rstd[c] over NCHW planes of L values: instance normalisation with statistics given from
// outside (whole-image statistics when an image is corrected tile by tile). stats = [mean[0..C), rstd[0..C)].
struct Params { n: u32, C: u32, L: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let c = (i / p.L) % p.C;
  y[i] = (x[i] - stats[c]) * stats[p.C + c];
}
