// 2×2 max pooling, stride 2 (odd trailing rows/columns dropped, as PyTorch). One invocation per output element;
// the first maximum in row-major window order wins, as in PyTorch.

fn kernel(i: u32) {
  let ox = i % p.OW;
  let rest = i / p.OW;
  let oy = rest % p.OH;
  let plane = rest / p.OH;
  let base = plane * p.H * p.W + 2u * oy * p.W + 2u * ox;
  y[i] = max(max(x[base], x[base + 1u]), max(x[base + p.W], x[base + p.W + 1u]));
}
