// Backward of concat for one input: gathers its channel slice (offset, block) out of each batch item of dy.
struct Params { n: u32, block: u32, outBlock: u32, offset: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  dx[i] = dy[(i / p.block) * p.outBlock + p.offset + i % p.block];
}
