// One gradient of a mean-reduced loss: out[i] = EXPR in x, t and s = dL/dloss / n (the upstream scalar g[0]
// times 1/n). Called once for d/dx and once for d/dtarget when each is needed; TARGET as in losses.wgsl.

fn kernel(i: u32) {
  let x = input[i];
  let t = {{TARGET}};
  let s = g[0] * p.invN;
  out[i] = {{EXPR}};
}
