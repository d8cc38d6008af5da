// Winograd F(2×2, 3×3), backward: the weight gradient (and with BIAS the bias gradient) from its transform du
// (winograd_filter_grad_element.wgsl), one kernel per invocation; with ACC added to dw and db.

fn kernel(i: u32) {
  filterGradAt(i, p.n, p.Cin, p.P, ACC, BIAS);
}
