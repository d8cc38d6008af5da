// y[n, c, q] = scale[c] · x[n, src[c], q] + shift[c] for up to four output channels (src/kernels/channel_affine.ts).
struct Params { n: u32, cin: u32, cout: u32, plane: u32, src: vec4u, scale: vec4f, shift: vec4f }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let q = i % p.plane;
  let c = (i / p.plane) % p.cout;
  let b = i / (p.plane * p.cout);
  y[i] = p.scale[c] * x[(b * p.cin + p.src[c]) * p.plane + q] + p.shift[c];
}
