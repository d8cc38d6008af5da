// Winograd F(2×2, 3×3), backward: a layer's two gradients from their GEMMs' products in one dispatch instead of
// one per gradient. Elements [0, nDx): dx (winograd_input_grad_element.wgsl; ACC_X adds it to dx); then nW = Cout·Cin
// kernels of dw and with BIAS db (winograd_filter_grad_element.wgsl; ACC_W adds them).

fn kernel(i: u32) {
  if (i < p.nDx) {
    let acc = inputGradAt(i);
    dx[i] = select(acc, acc + dx[i], ACC_X);
    return;
  }
  filterGradAt(i - p.nDx, p.nW, p.Cin, p.P, ACC_W, BIAS);
}
