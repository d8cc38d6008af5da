// Copies one input of a channel concatenation into its slice of the output: per batch item, the input's C_k·H·W
// block lands at channel offset `offset` (in elements) of the output's C·H·W block.
struct Params { n: u32, block: u32, outBlock: u32, offset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  y[(i / p.block) * p.outBlock + p.offset + i % p.block] = x[i];
}
