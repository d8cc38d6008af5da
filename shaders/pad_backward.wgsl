// Backward of pad as a gather (no atomics): each input element sums the output gradients of every position that
// copied it. Per axis that is the direct position plus, when REFLECT, at most one mirror on each side (pad < dim).
// With ACC the sum is added to dx (a gradient of x from its other uses). dy may hold `splits` slices
// [splits, planes, OH, OW] (a convolution's input gradient over the padded grid, split-K): they are summed too, in
// order, so the fold is also the split reduction.

fn kernel(i: u32) {
  let ix = i % p.W;
  let rest = i / p.W;
  let iy = rest % p.H;
  let plane = rest / p.H;
  let sy = paddedSources(i32(iy), i32(p.H), i32(p.top), i32(p.bottom), REFLECT);
  let sx = paddedSources(i32(ix), i32(p.W), i32(p.left), i32(p.right), REFLECT);
  let planes = p.n / (p.H * p.W);
  var acc = 0.0;
  for (var s = 0u; s < p.splits; s++) {
    let base = (s * planes + plane) * p.OH * p.OW;
    for (var a = 0; a < 3; a++) {
      if (sy[a] < 0) { continue; }
      for (var b = 0; b < 3; b++) {
        if (sx[b] < 0) { continue; }
        acc += dy[base + u32(sy[a]) * p.OW + u32(sx[b])];
      }
    }
  }
  dx[i] = select(acc, acc + dx[i], ACC);
}
