// Backward of 2×2 max pooling as a gather: each input element recomputes its window's argmax (first maximum in
// row-major order, as PyTorch) and takes the window's dy if it is that element, else 0.

fn kernel(i: u32) {
  let ix = i % p.W;
  let rest = i / p.W;
  let iy = rest % p.H;
  let plane = rest / p.H;
  let oy = iy / 2u;
  let ox = ix / 2u;
  if (oy >= p.OH || ox >= p.OW) {
    dx[i] = 0.0;
    return;
  }
  let base = plane * p.H * p.W + 2u * oy * p.W + 2u * ox;
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
  let mine = (iy % 2u) * 2u + ix % 2u;
  dx[i] = select(0.0, dy[(plane * p.OH + oy) * p.OW + ox], best == mine);
}
