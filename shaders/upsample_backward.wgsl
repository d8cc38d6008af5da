// Backward of nearest 2× upsampling: each input element sums the gradients of its 2×2 output block.

fn kernel(i: u32) {
  let ix = i % p.W;
  let rest = i / p.W;
  let iy = rest % p.H;
  let plane = rest / p.H;
  let OW = 2u * p.W;
  let top = (plane * 2u * p.H + 2u * iy) * OW + 2u * ix;
  dx[i] = dy[top] + dy[top + 1u] + dy[top + OW] + dy[top + OW + 1u];
}
