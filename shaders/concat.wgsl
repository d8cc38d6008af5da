// Copies one input of a channel concatenation into its slice of the output: per batch item, the input's C_k·H·W
// block lands at channel offset `offset` (in elements) of the output's C·H·W block; with ACC it is added there.

fn kernel(i: u32) {
  let at = (i / p.block) * p.outBlock + p.offset + i % p.block;
  y[at] = select(x[i], x[i] + y[at], ACC);
}
