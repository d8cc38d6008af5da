// Backward of norm.wgsl (instance_norm and batch_norm): one workgroup per channel c walks the channel's N/P
// statistics groups (group j: planes n = j·P … j·P + P − 1, stats at j·C + c; P = 1 for instance norm, N for batch
// norm). Per group, with x̂ = (x − mean)·rstd, M = P·L and g = dy·act'(y) (the fused activation's derivative, read
// from its output y): dx = w·rstd·(g − Σg/M − x̂·Σ(g·x̂)/M); over the whole channel: dweight = Σ g·x̂, dbias = Σ g.
// Reductions as in norm.wgsl.
{{ENABLE}}
const WG = {{WG}}u;
const ACT = {{ACT}}u;
struct Params { P: u32, C: u32, N: u32, L: u32, hasWeight: u32, slope: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbias: array<f32>;

var<workgroup> partial: array<vec2f, WG>;

fn workgroupSum(lid: u32, v: vec2f) -> vec2f {
{{SUM}}
}

fn grad(i: u32) -> f32 {
  let g = dy[i];
  if (ACT == 1u) { return select(0.0, g, y[i] > 0.0); }
  if (ACT == 2u) { return select(g * p.slope, g, y[i] > 0.0); }
  return g;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= p.C) { return; }
  var w = 1.0;
  if (p.hasWeight != 0u) { w = weight[c]; }
  var sums = vec2f(0.0); // (Σ g, Σ g·x̂) over the channel
  for (var j = 0u; j < p.N / p.P; j++) {
    let mean = stats[2u * (j * p.C + c)];
    let rstd = stats[2u * (j * p.C + c) + 1u];
    var acc = vec2f(0.0);
    for (var n = j * p.P; n < (j + 1u) * p.P; n++) {
      let base = (n * p.C + c) * p.L;
      for (var i = lid; i < p.L; i += WG) {
        let g = grad(base + i);
        acc += vec2f(g, g * (x[base + i] - mean) * rstd);
      }
    }
    let s = workgroupSum(lid, acc);
    sums += s;
    let k = s / f32(p.P * p.L);
    for (var n = j * p.P; n < (j + 1u) * p.P; n++) {
      let base = (n * p.C + c) * p.L;
      for (var i = lid; i < p.L; i += WG) {
        let xhat = (x[base + i] - mean) * rstd;
        dx[base + i] = w * rstd * (grad(base + i) - k.x - xhat * k.y);
      }
    }
  }
  if (lid == 0u) {
    dweight[c] = sums.y;
    dbias[c] = sums.x;
  }
}
