// Copies one input of a channel concatenation into its slice of the output: per batch item, the input's C_k·H·W
// block lands at channel offset `offset` (in elements) of the output's C·H·W block.

fn kernel(i: u32) {
  y[(i / p.block) * p.outBlock + p.offset + i % p.block] = x[i];
}
