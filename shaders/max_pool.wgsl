// 2×2 max pooling, stride 2. One invocation per output element; the first maximum in row-major window order wins,
// as in PyTorch.

fn kernel(i: u32) {
  let base = windowStart(i);
  y[i] = max(max(x[base], x[base + 1u]), max(x[base + p.W], x[base + p.W + 1u]));
}
