// Fused in-place Adam step (torch.optim.Adam, no weight decay, no amsgrad), in torch's operation order:
// m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= stepSize · m / (sqrt(v) / sqrt(1−β2^t) + eps),
// with stepSize = lr / (1−β1^t) and the bias corrections computed on the CPU in double precision.

fn kernel(i: u32) {
  let g = grad[i];
  let mi = m[i] * p.beta1 + p.oneMinusBeta1 * g;
  let vi = v[i] * p.beta2 + p.oneMinusBeta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = param[i] - p.stepSize * mi / (sqrt(vi) / p.bc2Sqrt + p.eps);
}
