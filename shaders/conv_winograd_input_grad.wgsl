// Winograd F(2×2, 3×3), backward: dx from the patches' gradients dv (winograd_input_grad_element.wgsl), one element
// per invocation; with ACC added to dx.

fn kernel(i: u32) {
  let acc = inputGradAt(i);
  dx[i] = select(acc, acc + dx[i], ACC);
}
