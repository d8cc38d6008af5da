// Pads every (n, c) plane by (left, right, top, bottom): mirrored without repeating the edge when REFLECT
// (PyTorch ReflectionPad2d), zeros otherwise. One invocation per output element.

fn kernel(i: u32) {
  let ox = i % p.OW;
  let rest = i / p.OW;
  let oy = rest % p.OH;
  let plane = rest / p.OH;
  var iy = i32(oy) - i32(p.top);
  var ix = i32(ox) - i32(p.left);
  let H = i32(p.H);
  let W = i32(p.W);
  if (REFLECT) {
    iy = reflect(iy, H);
    ix = reflect(ix, W);
  } else if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
    y[i] = 0.0;
    return;
  }
  y[i] = x[plane * p.H * p.W + u32(iy * W + ix)];
}
