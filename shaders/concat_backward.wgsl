// Backward of concat for one input: gathers its channel slice (offset, block) out of each batch item of dy.

fn kernel(i: u32) {
  dx[i] = dy[(i / p.block) * p.outBlock + p.offset + i % p.block];
}
