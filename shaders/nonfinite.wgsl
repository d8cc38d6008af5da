// counts[p.slot] += number of NaN or ±Inf values in x[0..n). Tested on the bits (exponent all ones): WGSL lets a
// compiler assume that floats are finite, so x != x may be folded away. Each invocation scans PER consecutive
// values and adds its count once: no barrier, and few atomics even when every value is NaN.
const PER = {{PER}}u;
struct Params { n: u32, slot: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let start = (gid.x + gid.y * nwg.x * 256u) * PER;
  let end = min(start + PER, p.n);
  var k = 0u;
  for (var i = start; i < end; i++) {
    k += select(0u, 1u, (x[i] & 0x7f800000u) == 0x7f800000u);
  }
  if (k > 0u) { atomicAdd(&counts[p.slot], k); }
}
