// Index into an axis of n elements mirrored without repeating the edge (PyTorch ReflectionPad2d): −1 → 1,
// n → n − 2. Valid for pads < n.
fn reflect(i: i32, n: i32) -> i32 {
  if (i < 0) { return -i; }
  if (i >= n) { return 2 * (n - 1) - i; }
  return i;
}

// The backward of reflect(): the k-th position of the pad-wide padded axis (in unpadded coordinates) that mirrors
// onto i. k = 0: i itself; 1: −i (1 ≤ i ≤ pad); 2: 2(n − 1) − i (1 ≤ n − 1 − i ≤ pad); n + pad (past the padded
// axis) where there is none.
fn reflectedFrom(i: i32, n: i32, pad: i32, k: u32) -> i32 {
  if (k == 0u) { return i; }
  if (k == 1u && i >= 1 && i <= pad) { return -i; }
  if (k == 2u && n - 1 - i >= 1 && n - 1 - i <= pad) { return 2 * (n - 1) - i; }
  return n + pad;
}

// Positions along one axis of the padded copy (before + n + after, in padded coordinates) that read position i of
// the unpadded axis: i + before, and with `mirrored` (reflection) at most one mirror on each side (pads < n); −1
// where there is none.
fn paddedSources(i: i32, n: i32, before: i32, after: i32, mirrored: bool) -> vec3<i32> {
  var s = vec3<i32>(i + before, -1, -1);
  if (mirrored) {
    if (i >= 1 && i <= before) { s.y = before - i; }
    if (i <= n - 2 && i >= n - 1 - after) { s.z = before + 2 * (n - 1) - i; }
  }
  return s;
}
