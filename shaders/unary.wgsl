// y = f(x) elementwise; EXPR is the op's forward expression in x and p.alpha (see src/kernels/unary.ts).

fn kernel(i: u32) {
  let x = input[i];
  out[i] = {{EXPR}};
}
