// Winograd F(4×4, 3×3), backward: a layer's two gradients from their GEMMs' products in one dispatch, as
// conv_winograd_gradients.wgsl computes F(2×2)'s. Elements [0, nDx): dx (ACC_X adds it to dx); then nW = Cout·Cin
// kernels of dw and with BIAS db (ACC_W adds them).
//
// dx: element i = (n, c, iy, ix) gathers, over every position of the padded input that reads it (itself and, with
// REFLECT, its mirrors: paddedSources), the patches that hold it: the gradient of patch d is B dv Bᵀ, so padded
// coordinate q along an axis takes Bᵀ[ξ][q mod 4] from tile q / 4 and, where q mod 4 < 2, Bᵀ[ξ][q mod 4 + 4] from the
// tile before (6×6 patches at stride 4).
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
// dw: kernel (k, c) = element i − nDx from its transformed gradient du[ξ][k][c]: Gᵀ du G; the invocation of (k, 0)
// also sums db[k] = Σ dy: plane ξ = 7 of dm holds each tile's sum (row 1 of A is [1 1 1 1]).
//   Gᵀ = [¼ −⅙ −⅙ 1/24 1/24 0; 0 −⅙ ⅙ 1/12 −1/12 0; 0 −⅙ −⅙ ⅙ ⅙ 1]

const BT6 = array<array<f32, 6>, 6>(
  array<f32, 6>(4.0, 0.0, -5.0, 0.0, 1.0, 0.0),
  array<f32, 6>(0.0, -4.0, -4.0, 1.0, 1.0, 0.0),
  array<f32, 6>(0.0, 4.0, -4.0, -1.0, 1.0, 0.0),
  array<f32, 6>(0.0, -2.0, -1.0, 2.0, 1.0, 0.0),
  array<f32, 6>(0.0, 2.0, -1.0, -2.0, 1.0, 0.0),
  array<f32, 6>(0.0, 4.0, 0.0, -5.0, 0.0, 1.0),
);

/** The (tile, row of its patch) pairs that hold padded coordinate q, at most two; tile −1: none. */
fn patchRows(q: i32, tiles: i32) -> array<vec2i, 2> {
  var out = array<vec2i, 2>(vec2i(q / 4, q % 4), vec2i(-1, 0));
  if (q % 4 < 2) { out[1] = vec2i(q / 4 - 1, q % 4 + 4); }
  for (var k = 0; k < 2; k++) {
    if (out[k].x < 0 || out[k].x >= tiles) { out[k].x = -1; }
  }
  return out;
}

fn inputGrad4At(i: u32) -> f32 {
  let ix = i % p.W;
  let iy = (i / p.W) % p.H;
  let c = (i / (p.W * p.H)) % p.Cin;
  let n = i / (p.W * p.H * p.Cin);
  let pad = i32(p.pad);
  let sy = paddedSources(i32(iy), i32(p.H), pad, pad, REFLECT);
  let sx = paddedSources(i32(ix), i32(p.W), pad, pad, REFLECT);
  var acc = 0.0;
  for (var a = 0; a < 3; a++) {
    if (sy[a] < 0) { continue; }
    let ty = patchRows(sy[a], i32(p.TH));
    for (var b = 0; b < 3; b++) {
      if (sx[b] < 0) { continue; }
      let tx = patchRows(sx[b], i32(p.TW));
      for (var u = 0; u < 2; u++) {
        if (ty[u].x < 0) { continue; }
        for (var v = 0; v < 2; v++) {
          if (tx[v].x < 0) { continue; }
          let t = (n * p.TH + u32(ty[u].x)) * p.TW + u32(tx[v].x);
          for (var r = 0u; r < 6u; r++) {
            let cy = BT6[r][ty[u].y];
            if (cy == 0.0) { continue; }
            var row = 0.0;
            for (var s = 0u; s < 6u; s++) { row = fma(BT6[s][tx[v].y], dv[operandAt(r * 6u + s, c, p.Cin, t)], row); }
            acc = fma(cy, row, acc);
          }
        }
      }
    }
  }
  return acc;
}

fn gt6(m: array<f32, 6>) -> vec3f {
  let a = m[1] + m[2];
  let b = m[2] - m[1];
  let c = m[3] + m[4];
  let d = m[3] - m[4];
  return vec3f(0.25 * m[0] - a / 6.0 + c / 24.0, b / 6.0 + d / 12.0, (c - a) / 6.0 + m[5]);
}

fn filterGrad4At(i: u32) {
  var e: array<vec3f, 6>; // Gᵀ du: column s transformed
  for (var s = 0u; s < 6u; s++) {
    var col: array<f32, 6>;
    for (var r = 0u; r < 6u; r++) { col[r] = du[(r * 6u + s) * p.nW + i]; }
    e[s] = gt6(col);
  }
  for (var r = 0u; r < 3u; r++) {
    let g = gt6(array<f32, 6>(e[0][r], e[1][r], e[2][r], e[3][r], e[4][r], e[5][r]));
    for (var s = 0u; s < 3u; s++) {
      let at = i * 9u + r * 3u + s;
      dw[at] = select(g[s], g[s] + dw[at], ACC_W);
    }
  }
  if (BIAS && i % p.Cin == 0u) {
    let k = i / p.Cin;
    let row = (7u * (p.nW / p.Cin) + k) * p.P;
    var sum = 0.0;
    for (var t = 0u; t < p.P; t++) { sum += dm[row + t]; }
    db[k] = select(sum, sum + db[k], ACC_W);
  }
}

fn kernel(i: u32) {
  if (i < p.nDx) {
    let acc = inputGrad4At(i);
    dx[i] = select(acc, acc + dx[i], ACC_X);
    return;
  }
  filterGrad4At(i - p.nDx);
}
