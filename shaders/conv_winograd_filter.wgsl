// Winograd F(2×2, 3×3) filter transform alone (winograd_filter_transform.wgsl).

fn kernel(i: u32) {
  transformFilterAt(i, p.n);
}
