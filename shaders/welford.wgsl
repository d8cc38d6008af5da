// One-pass mean and M2 (sum of squared deviations) over a workgroup (channel_moments.wgsl, norm.wgsl): each
// invocation folds its values in with Welford's update, then the workgroup merges the invocations' (count, mean, M2)
// with Chan et al.'s formula. Needs workgroupSum (the kernel's f32 reduction).
struct Welford { n: f32, mean: f32, m2: f32 }

fn welfordAdd(w: Welford, d: f32) -> Welford {
  let n = w.n + 1.0;
  let delta = d - w.mean;
  let mean = w.mean + delta / n;
  return Welford(n, mean, w.m2 + delta * (d - mean));
}

/** (mean, M2) of the `count` values every invocation's w holds between them. */
fn welfordMerge(lid: u32, w: Welford, count: f32) -> vec2f {
  let mean = workgroupSum(lid, w.n * w.mean) / count;
  let spread = w.mean - mean;
  return vec2f(mean, workgroupSum(lid, w.m2 + w.n * spread * spread));
}
