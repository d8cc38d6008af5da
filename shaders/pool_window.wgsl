// Index maps of 2×2, stride-2 pooling over planes of p.H × p.W inputs and p.OH × p.OW outputs (odd trailing rows
// and columns dropped, as PyTorch). Included by the pooling kernels (their descriptions' `includes`).

// Input index of the top-left element of output o's window.
fn windowStart(o: u32) -> u32 {
  let ox = o % p.OW;
  let rest = o / p.OW;
  let oy = rest % p.OH;
  let plane = rest / p.OH;
  return plane * p.H * p.W + 2u * oy * p.W + 2u * ox;
}

// For input element i: the output whose window holds it and its position 0…3 in that window (row-major);
// position 4 for an element of a dropped row or column.
fn windowOf(i: u32) -> vec2u {
  let ix = i % p.W;
  let rest = i / p.W;
  let iy = rest % p.H;
  let plane = rest / p.H;
  let oy = iy / 2u;
  let ox = ix / 2u;
  if (oy >= p.OH || ox >= p.OW) { return vec2u(0u, 4u); }
  return vec2u((plane * p.OH + oy) * p.OW + ox, (iy % 2u) * 2u + ix % 2u);
}
