// Winograd F(2×2, 3×3), forward: both GEMM operands in one dispatch. Elements [0, nXt): a band of x's tile rows from
// p.ty0 transformed (winograd_input_transform.wgsl) → xt; then nU filters (winograd_filter_transform.wgsl) → u,
// made with the first band only (nU = 0 for the others).

fn kernel(i: u32) {
  if (i < p.nXt) {
    transformInputTile(i, p.ty0);
    return;
  }
  transformFilterAt(i - p.nXt, p.nU);
}
