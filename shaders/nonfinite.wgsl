// counts[p.slot] += number of NaN or ±Inf values in x[0..p.len). Tested on the bits (exponent all ones): WGSL lets a
// compiler assume that floats are finite, so x != x may be folded away. Invocation i scans PER consecutive values
// and adds its count once: no barrier, and few atomics even when every value is NaN.

fn kernel(i: u32) {
  let start = i * PER;
  let end = min(start + PER, p.len);
  var k = 0u;
  for (var j = start; j < end; j++) {
    k += select(0u, 1u, (x[j] & 0x7f800000u) == 0x7f800000u);
  }
  if (k > 0u) { atomicAdd(&counts[p.slot], k); }
}
