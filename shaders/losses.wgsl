// out[i] = per-element loss (EXPR in x and t); the mean is taken by the shared sum reduction afterwards.
// TARGET is `tgt[i]` for a tensor target or `p.constTarget` for a constant one (then tgt is unused and unbound).

fn kernel(i: u32) {
  let x = input[i];
  let t = {{TARGET}};
  out[i] = {{EXPR}};
}
