// Backward of 2×2 max pooling as a gather: each input element recomputes its window's argmax (first maximum in
// row-major order, as PyTorch) and takes the window's dy if it is that element, else 0.

fn kernel(i: u32) {
  let win = windowOf(i);
  if (win.y == 4u) {
    dx[i] = 0.0;
    return;
  }
  let base = windowStart(win.x);
  let offsets = array<u32, 4>(0u, 1u, p.W, p.W + 1u);
  var best = 0u;
  var m = x[base];
  for (var k = 1u; k < 4u; k++) {
    let v = x[base + offsets[k]];
    if (v > m) {
      m = v;
      best = k;
    }
  }
  dx[i] = select(0.0, dy[win.x], best == win.y);
}
