// Sum of the split-K slices of a weight gradient or a gather (direct or phase): out[i] = Σ_s part[s·n + i], s in
// increasing order; with ACC added to out (a gradient from earlier uses of the weight or input: no separate
// accumulation). out is stored as Y (f32, or f16 for a gather writing an f16 map).

fn kernel(i: u32) {
  var s = 0.0;
  for (var k = 0u; k < p.splits; k++) { s += part[k * p.n + i]; }
  if (ACC) { s += f32(out[i]); }
  out[i] = Y(s);
}
