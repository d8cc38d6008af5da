// Σ v over the workgroup when the workgroup is one subgroup: no workgroup memory, no barriers (CPU adapters run a
// barrier as a coroutine switch).
fn workgroupSum(lid: u32, v: {{T}}) -> {{T}} {
  return subgroupAdd(v);
}
