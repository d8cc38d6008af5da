// Winograd F(4×4, 3×3), forward: both GEMM operands in one dispatch, as conv_winograd_forward_operands.wgsl makes
// F(2×2)'s (winograd4_transforms.wgsl): elements [0, nXt) the input transform of a band of tile rows → xt, then nU
// filters → u (first band only).

fn kernel(i: u32) {
  if (i < p.nXt) {
    transformInput4Tile(i, p.ty0);
    return;
  }
  transformFilter4At(i - p.nXt, p.nU);
}
