// dst += src: gradient accumulation without a temporary (a buffer cannot be bound as input and output at once).

fn kernel(i: u32) {
  dst[i] = dst[i] + src[i];
}
