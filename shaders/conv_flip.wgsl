// The weight of a stride-1 convolution's input gradient as a direct convolution: out[ci, co, a, b] =
// w[co, ci, KH−1−a, KW−1−b] (channels swapped, kernel rotated by 180°), so dx = conv(dy, out, padding K−1−p).
struct Params { Cout: u32, Cin: u32, KH: u32, KW: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let K = p.KH * p.KW;
  if (i >= p.Cout * p.Cin * K) { return; }
  let b = i % p.KW;
  let a = (i / p.KW) % p.KH;
  let co = (i / K) % p.Cout;
  let ci = i / (K * p.Cout);
  out[i] = w[(co * p.Cin + ci) * K + (p.KH - 1u - a) * p.KW + (p.KW - 1u - b)];
}
