// dx[n, k, q] = Σ over output channels c with src[c] = k of scale[c] · dy[n, c, q] (a channel may feed several).

fn kernel(i: u32) {
  let q = i % p.plane;
  let k = (i / p.plane) % p.cin;
  let b = i / (p.plane * p.cin);
  var acc = 0.0;
  for (var c = 0u; c < p.cout; c++) {
    if (p.src[c] == k) { acc += p.scale[c] * dy[(b * p.cout + c) * p.plane + q]; }
  }
  dx[i] = acc;
}
