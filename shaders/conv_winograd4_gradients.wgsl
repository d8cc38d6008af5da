// Winograd F(4×4, 3×3), backward: a layer's two gradients from their GEMMs' products in one dispatch, as
// conv_winograd_gradients.wgsl computes F(2×2)'s. Elements [0, nDx): blocks of dx (ACC_X adds to dx); then nW =
// Cout·Cin kernels of dw and with BIAS db (ACC_W adds them).
//
// dx: the gradient of patch d is B dv Bᵀ, and the 6×6 patches overlap by 2 (stride 4), so padded rows [4b, 4b + 4)
// receive from tiles b and b − 1 only. Element i = (n, c, by, bx) owns the 4×4 block of padded positions at
// (4·by, 4·bx): it adds the patch gradients of tiles (by − {0, 1}, bx − {0, 1}) into a 6×6 window from there, then
// writes each input pixel of the block as the sum over the padded positions that read it (itself and, with REFLECT,
// its mirrors: paddedSources), all within the window: a mirror below the block lies in its window's rows 4–5, which
// only tile by adds to, since tile by + 1 is past the grid there. Each tile is read 4 times, not once per pixel
// of its patch.
//   B = [4 0 0 0 0 0; 0 −4 4 −2 2 4; −5 −4 −4 −1 −1 0; 0 1 −1 2 −2 −5; 1 1 1 1 1 0; 0 0 0 0 0 1]   (Bᵀ: the forward's)
// dw: kernel (k, c) = element i − nDx from its transformed gradient du[ξ][k][c]: Gᵀ du G; the invocation of (k, 0)
// also sums db[k] = Σ dy: plane ξ = 7 of dm holds each tile's sum (row 1 of A is [1 1 1 1]).
//   Gᵀ = [¼ −⅙ −⅙ 1/24 1/24 0; 0 −⅙ ⅙ 1/12 −1/12 0; 0 −⅙ −⅙ ⅙ ⅙ 1]

/** B v for one column (row) v of a tile's transformed gradient. */
fn b6(v: array<f32, 6>) -> array<f32, 6> {
  return array<f32, 6>(
    4.0 * v[0],
    4.0 * (v[2] - v[1] + v[5]) + 2.0 * (v[4] - v[3]),
    -5.0 * v[0] - 4.0 * (v[1] + v[2]) - v[3] - v[4],
    v[1] - v[2] + 2.0 * (v[3] - v[4]) - 5.0 * v[5],
    v[0] + v[1] + v[2] + v[3] + v[4],
    v[5],
  );
}

/** Adds tile (ty, tx)'s patch gradient B dv Bᵀ (channel c of item n; none outside the grid) to the window: patch
 * row r, column s at window row r + dy, column s + dx (dy, dx 0 or −4), where that is within the window. */
fn addPatchGrad(window: ptr<function, array<array<f32, 6>, 6>>, n: u32, c: u32, ty: i32, tx: i32, dy: i32, dx: i32) {
  if (ty < 0 || tx < 0 || ty >= i32(p.TH) || tx >= i32(p.TW)) { return; }
  let t = (n * p.TH + u32(ty)) * p.TW + u32(tx);
  var e: array<array<f32, 6>, 6>; // B dv: column j transformed
  for (var j = 0u; j < 6u; j++) {
    var col: array<f32, 6>;
    for (var i = 0u; i < 6u; i++) { col[i] = dv[operandAt(i * 6u + j, c, p.Cin, t)]; }
    e[j] = b6(col);
  }
  for (var r = max(0, -dy); r < 6; r++) {
    let row = b6(array<f32, 6>(e[0][r], e[1][r], e[2][r], e[3][r], e[4][r], e[5][r]));
    for (var s = max(0, -dx); s < 6; s++) { (*window)[r + dy][s + dx] += row[s]; }
  }
}

fn inputGrad4Block(i: u32) {
  let BX = (p.W + p.pad + 3u) / 4u;
  let BY = (p.H + p.pad + 3u) / 4u;
  let bx = i32(i % BX);
  let by = i32((i / BX) % BY);
  let c = (i / (BX * BY)) % p.Cin;
  let n = i / (BX * BY * p.Cin);
  var window: array<array<f32, 6>, 6>;
  addPatchGrad(&window, n, c, by, bx, 0, 0);
  addPatchGrad(&window, n, c, by - 1, bx, -4, 0);
  addPatchGrad(&window, n, c, by, bx - 1, 0, -4);
  addPatchGrad(&window, n, c, by - 1, bx - 1, -4, -4);
  let pad = i32(p.pad);
  for (var r = 0; r < 4; r++) {
    let iy = 4 * by + r - pad;
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    let sy = paddedSources(iy, i32(p.H), pad, pad, REFLECT) - vec3i(4 * by);
    for (var s = 0; s < 4; s++) {
      let ix = 4 * bx + s - pad;
      if (ix < 0 || ix >= i32(p.W)) { continue; }
      let sx = paddedSources(ix, i32(p.W), pad, pad, REFLECT) - vec3i(4 * bx);
      var acc = 0.0;
      for (var a = 0; a < 3; a++) {
        if (sy[a] < 0) { continue; }
        for (var b = 0; b < 3; b++) {
          if (sx[b] >= 0) { acc += window[sy[a]][sx[b]]; }
        }
      }
      let at = ((n * p.Cin + c) * p.H + u32(iy)) * p.W + u32(ix);
      dx[at] = select(acc, acc + dx[at], ACC_X);
    }
  }
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
    inputGrad4Block(i);
    return;
  }
  filterGrad4At(i - p.nDx);
}
