// counts[p.slot] += number of NaN or ±Inf values in x[0..n). Tested on the bits (exponent all ones): WGSL lets a
// compiler assume that floats are finite, so x != x may be folded away.
struct Params { n: u32, slot: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;

var<workgroup> found: atomic<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.n && (x[i] & 0x7f800000u) == 0x7f800000u) {
    atomicAdd(&found, 1u);
  }
  workgroupBarrier();
  if (lid == 0u) {
    let k = atomicLoad(&found);
    if (k > 0u) { atomicAdd(&counts[p.slot], k); }
  }
}
