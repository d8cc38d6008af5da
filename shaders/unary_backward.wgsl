// dx = f'(·) * dy elementwise; EXPR reads g (= dy), v (the saved input x or output y) and p.alpha.

fn kernel(i: u32) {
  let v = saved[i];
  let g = gradOut[i];
  gradIn[i] = {{EXPR}};
}
