// Sum of the split-K slices of a weight gradient or a gather (direct or phase), in up to two segments: out[i] =
// Σ_s part[s·n1 + i] for i < n1, and a second segment of n − n1 elements (a layer's bias gradient beside its
// weights': one dispatch for both) whose slices start at part2 in part and whose sums go to out2 + (i − n1) in out;
// s in increasing order. With ACC added to out (a gradient from earlier uses of the weight or input: no separate
// accumulation). out is stored as Y (f32, or f16 for a gather writing an f16 map).

fn kernel(i: u32) {
  let second = i >= p.n1;
  let len = select(p.n1, p.n - p.n1, second);
  let src = select(i, p.part2 + i - p.n1, second);
  let dst = select(i, p.out2 + i - p.n1, second);
  var s = 0.0;
  for (var k = 0u; k < p.splits; k++) { s += part[src + k * len]; }
  if (ACC) { s += f32(out[dst]); }
  out[dst] = Y(s);
}
