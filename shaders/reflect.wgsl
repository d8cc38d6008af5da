// Index into an axis of n elements mirrored without repeating the edge (PyTorch ReflectionPad2d): −1 → 1,
// n → n − 2. Valid for pads < n.
fn reflect(i: i32, n: i32) -> i32 {
  if (i < 0) { return -i; }
  if (i >= n) { return 2 * (n - 1) - i; }
  return i;
}
