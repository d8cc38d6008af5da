// 2×2 average pooling, stride 2. One invocation per output element.

fn kernel(i: u32) {
  let base = windowStart(i);
  y[i] = 0.25 * (x[base] + x[base + 1u] + x[base + p.W] + x[base + p.W + 1u]);
}
