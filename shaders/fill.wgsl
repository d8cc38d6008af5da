// out[i] = value

fn kernel(i: u32) {
  out[i] = p.value;
}
