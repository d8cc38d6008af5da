// Fused in-place Adam step (torch.optim.Adam, no weight decay, no amsgrad) over elements base … base + n − 1 of an
// optimizer's four arenas (parameters, gradients, m, v: one layout), in torch's operation order:
// m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; w −= stepSize · m / (sqrt(v) / sqrt(1−β2^t) + eps),
// with stepSize = lr / (1−β1^t) and the bias corrections computed on the CPU in double precision.

fn kernel(i: u32) {
  let k = p.base + i;
  let g = grads[k];
  let mk = m[k] * p.beta1 + p.oneMinusBeta1 * g;
  let vk = v[k] * p.beta2 + p.oneMinusBeta2 * g * g;
  m[k] = mk;
  v[k] = vk;
  weights[k] = weights[k] - p.stepSize * mk / (sqrt(vk) / p.bc2Sqrt + p.eps);
}
