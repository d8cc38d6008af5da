// Winograd F(2×2, 3×3) input transform of a band of tile rows from p.ty0 (winograd_input_transform.wgsl).

fn kernel(i: u32) {
  transformInputTile(i, p.ty0);
}
