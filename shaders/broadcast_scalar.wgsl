// out[i] = alpha * g[0]: backward of a full reduction.

fn kernel(i: u32) {
  out[i] = g[0] * p.alpha;
}
