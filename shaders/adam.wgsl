// Fused in-place Adam step (torch.optim.Adam, no weight decay, no amsgrad), in torch's operation order:
// m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= stepSize · m / (sqrt(v) / sqrt(1−β2^t) + eps),
// with stepSize = lr / (1−β1^t) and the bias corrections computed on the CPU in double precision.
struct Params { n: u32, beta1: f32, beta2: f32, oneMinusBeta1: f32, oneMinusBeta2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let g = grad[i];
  let mi = m[i] * p.beta1 + p.oneMinusBeta1 * g;
  let vi = v[i] * p.beta2 + p.oneMinusBeta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = param[i] - p.stepSize * mi / (sqrt(vi) / p.bc2Sqrt + p.eps);
}
