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
