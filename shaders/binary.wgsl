// out = a (OP) b, elementwise over equal shapes; OP is substituted per op (add, sub, mul, div).

fn kernel(i: u32) {
  out[i] = a[i] {{OP}} b[i];
}
