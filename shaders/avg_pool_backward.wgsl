// Backward of 2×2 average pooling as a gather: each input element takes a quarter of its window's dy.

fn kernel(i: u32) {
  let win = windowOf(i);
  if (win.y == 4u) {
    dx[i] = 0.0;
    return;
  }
  dx[i] = 0.25 * dy[win.x];
}
