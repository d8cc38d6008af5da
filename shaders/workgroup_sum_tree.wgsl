// Σ v over the workgroup by a tree in workgroup memory (`partial`, WG entries, WG a power of two): the
// onnxruntime instance-norm pattern, used on GPUs. Every invocation gets the total.
fn workgroupSum(lid: u32, v: {{T}}) -> {{T}} {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // everyone has read the total before partial is reused
  return total;
}
