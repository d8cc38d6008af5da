// y[n, c, q] = scale[c] · x[n, src[c], q] + shift[c] for up to four output channels (src/kernels/channel_affine.ts).

fn kernel(i: u32) {
  let q = i % p.plane;
  let c = (i / p.plane) % p.cout;
  let b = i / (p.plane * p.cout);
  y[i] = p.scale[c] * x[(b * p.cin + p.src[c]) * p.plane + q] + p.shift[c];
}
