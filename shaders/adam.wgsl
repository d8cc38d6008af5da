// Fused in-place Adam step (torch.optim.Adam, no weight decay, no amsgrad) of up to 7 parameters at once, in
// torch's operation order: m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= stepSize · m / (sqrt(v) / sqrt(1−β2^t) + eps),
// with stepSize = lr / (1−β1^t) and the bias corrections computed on the CPU in double precision.
// Index i runs over the parameters' elements back to back; their moments lie back to back in m and v from p.base.
// SEGMENTS (generated per parameter count) picks the parameter of i and calls step with its param/grad buffers.

/** Segment j of the dispatch ends (exclusively) at end(j); it starts at end(j − 1). */
fn end(j: u32) -> u32 {
  if (j < 4u) { return p.ends0[j]; }
  return p.ends1[j - 4u];
}

/** Updates the moments of element i and returns the new parameter value. */
fn step(i: u32, w: f32, g: f32) -> f32 {
  let k = p.base + i;
  let mi = m[k] * p.beta1 + p.oneMinusBeta1 * g;
  let vi = v[k] * p.beta2 + p.oneMinusBeta2 * g * g;
  m[k] = mi;
  v[k] = vi;
  return w - p.stepSize * mi / (sqrt(vi) / p.bc2Sqrt + p.eps);
}

fn kernel(i: u32) {
  {{SEGMENTS}}
}
