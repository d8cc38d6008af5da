// Transposed convolution as a gather: y[n,co,oy,ox] = Σ x[n,ci,iy,ix]·w[ci,co,kh,kw] over oy = iy·s − pad + kh.
// Each invocation owns TM output channels × TN outputs of one row that share ox mod stride (ox = phase + s·t), so
// every tap (kh, kw) is either valid for the whole tile or skipped: no wasted multiply-adds at stride 2.
// Also computes conv2d's input gradient (x = dy, w = the conv weight, which has this layout already).
const TM = {{TM}}u;
const TN = {{TN}}u;
struct Params {
  N: u32, Cin: u32, H: u32, W: u32, Cout: u32, OH: u32, OW: u32, KH: u32, KW: u32,
  stride: u32, pad: u32, tilesPerPhase: u32, hasBias: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size({{WG}})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let tilesX = p.tilesPerPhase * p.stride;
  let tile = gid.x + wid.z * nwg.x * {{WG}}u;
  let co0 = wid.y * TM;
  if (tile >= p.N * p.OH * tilesX || co0 >= p.Cout) { return; }
  let tx = tile % tilesX;
  let phase = tx % p.stride;
  let t0 = (tx / p.stride) * TN;
  let oy = (tile / tilesX) % p.OH;
  let n = tile / (tilesX * p.OH);
  let s = i32(p.stride);
  let K = p.KH * p.KW;
  var acc: array<f32, TM * TN>;
  for (var kh = 0u; kh < p.KH; kh++) {
    let ny = i32(oy + p.pad) - i32(kh);
    if (ny < 0 || ny % s != 0 || ny / s >= i32(p.H)) { continue; }
    let iy = u32(ny / s);
    for (var kw = 0u; kw < p.KW; kw++) {
      // ix for output t0 + j is nx/s + j, valid per j only at the row ends.
      let nx = i32(phase + t0 * p.stride + p.pad) - i32(kw);
      if (((nx % s) + s) % s != 0) { continue; }
      let ixBase = (nx - ((nx % s) + s) % s) / s;
      for (var ci = 0u; ci < p.Cin; ci++) {
        let row = ((n * p.Cin + ci) * p.H + iy) * p.W;
        var xv: array<f32, TN>;
        for (var j = 0u; j < TN; j++) {
          let ix = ixBase + i32(j);
          xv[j] = select(0.0, x[row + u32(max(ix, 0))], ix >= 0 && ix < i32(p.W));
        }
        let wk = ci * p.Cout * K + kh * p.KW + kw;
        for (var i = 0u; i < TM; i++) {
          let wv = w[wk + min(co0 + i, p.Cout - 1u) * K];
          for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(wv, xv[j], acc[i * TN + j]); }
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    let bias = select(0.0, b[co], p.hasBias != 0u);
    let out = ((n * p.Cout + co) * p.OH + oy) * p.OW;
    for (var j = 0u; j < TN; j++) {
      let ox = phase + (t0 + j) * p.stride;
      if (ox < p.OW) { y[out + ox] = acc[i * TN + j] + bias; }
    }
  }
}
