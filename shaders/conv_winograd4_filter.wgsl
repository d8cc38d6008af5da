// Winograd F(4×4, 3×3) filter transform: each 3×3 kernel g = w[k, c] becomes G g Gᵀ, written to u[ξ][k][c].
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

fn kernel(i: u32) {
  let base = i * 9u;
  var e: array<array<f32, 6>, 3>; // G g: column j of g transformed
  for (var j = 0u; j < 3u; j++) { e[j] = g6(w[base + j], w[base + 3u + j], w[base + 6u + j]); }
  for (var r = 0u; r < 6u; r++) {
    let v = g6(e[0][r], e[1][r], e[2][r]);
    for (var s = 0u; s < 6u; s++) { u[(r * 6u + s) * p.n + i] = v[s]; }
  }
}
