// Winograd F(2×2, 3×3), backward: the operands a layer's gradients need, in one dispatch instead of one per
// transform (fixed cost per dispatch; small layers also fill the adapter better together). Elements [0, nDm): the
// output gradient's tiles → dm; then nXt of x's patches → xt, transposed (the weight gradient's); then nU filters → u
// (the input gradient's). A count of zero skips its transform.

fn kernel(i: u32) {
  if (i < p.nDm) {
    transformGradOutputTile(i);
    return;
  }
  let j = i - p.nDm;
  if (j < p.nXt) {
    transformInputTile(j, 0u);
    return;
  }
  transformFilterAt(j - p.nXt, p.nU);
}
