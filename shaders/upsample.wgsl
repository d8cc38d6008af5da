// Nearest-neighbour 2× upsampling: output (oy, ox) copies input (oy / 2, ox / 2) of the same plane.

fn kernel(i: u32) {
  let OW = 2u * p.W;
  let ox = i % OW;
  let rest = i / OW;
  let oy = rest % (2u * p.H);
  let plane = rest / (2u * p.H);
  y[i] = x[(plane * p.H + oy / 2u) * p.W + ox / 2u];
}
