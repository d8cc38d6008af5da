// Winograd F(4×4, 3×3) transforms of x and w (the forward's operands; transposed x the weight gradient's).
//
// Input transform: each 6×6 patch d of x that overlaps a 4×4 output tile becomes Bᵀ d B, 36 values, one per
// transformed plane ξ, written to xt[ξ][c][t], or with TRANSPOSE to xt[ξ][t][c]. Element i = (c, t)
// (winograd_tile.wgsl); the patch starts at padded (4ty, 4tx) and reads x as winograd_patch.wgsl's patchAt does.
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]

fn bt6(d: array<f32, 6>) -> array<f32, 6> {
  return array<f32, 6>(
    4.0 * d[0] - 5.0 * d[2] + d[4],
    -4.0 * (d[1] + d[2]) + d[3] + d[4],
    4.0 * (d[1] - d[2]) - d[3] + d[4],
    2.0 * (d[3] - d[1]) - d[2] + d[4],
    2.0 * (d[1] - d[3]) - d[2] + d[4],
    4.0 * d[1] - 5.0 * d[3] + d[5],
  );
}

fn transformInput4Tile(i: u32, ty0: u32) {
  let tile = winogradTile(i, ty0);
  let c = tile.channel;
  let q = tilePatch(tile, 4u);
  var e: array<array<f32, 6>, 6>; // Bᵀ d: column s of the patch transformed
  for (var s = 0; s < 6; s++) {
    var col: array<f32, 6>;
    for (var r = 0; r < 6; r++) { col[r] = patchAt(q, r, s); }
    e[s] = bt6(col);
  }
  for (var r = 0u; r < 6u; r++) {
    let v = bt6(array<f32, 6>(e[0][r], e[1][r], e[2][r], e[3][r], e[4][r], e[5][r]));
    for (var s = 0u; s < 6u; s++) {
      let xi = r * 6u + s;
      xt[select(operandAt(xi, c, p.Cin, tile.t), (xi * tileCount() + tile.t) * p.Cin + c, TRANSPOSE)] = v[s];
    }
  }
}

// Filter transform: each 3×3 kernel g = w[k, c] becomes G g Gᵀ, written to u[ξ][k][c].
//   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]

fn g6(g0: f32, g1: f32, g2: f32) -> array<f32, 6> {
  return array<f32, 6>(
    0.25 * g0,
    -(g0 + g1 + g2) / 6.0,
    -(g0 - g1 + g2) / 6.0,
    g0 / 24.0 + g1 / 12.0 + g2 / 6.0,
    g0 / 24.0 - g1 / 12.0 + g2 / 6.0,
    g2,
  );
}

fn transformFilter4At(i: u32, count: u32) {
  let base = i * 9u;
  var e: array<array<f32, 6>, 3>; // G g: column j of g transformed
  for (var j = 0u; j < 3u; j++) { e[j] = g6(w[base + j], w[base + 3u + j], w[base + 6u + j]); }
  for (var r = 0u; r < 6u; r++) {
    let v = g6(e[0][r], e[1][r], e[2][r]);
    for (var s = 0u; s < 6u; s++) { u[(r * 6u + s) * count + i] = v[s]; }
  }
}
