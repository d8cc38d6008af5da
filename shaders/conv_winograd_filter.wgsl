// Winograd F(2×2, 3×3) filter transform: each 3×3 kernel g = w[k, c] becomes G g Gᵀ, written to u[ξ][k][c].
//   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]

fn kernel(i: u32) {
  let base = i * 9u;
  var e: array<vec4f, 3>; // G g: column j of g transformed
  for (var j = 0u; j < 3u; j++) {
    let g0 = w[base + j];
    let g1 = w[base + 3u + j];
    let g2 = w[base + 6u + j];
    e[j] = vec4f(g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2);
  }
  for (var r = 0u; r < 4u; r++) {
    let g0 = e[0][r];
    let g1 = e[1][r];
    let g2 = e[2][r];
    let v = vec4f(g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2);
    for (var s = 0u; s < 4u; s++) { u[(r * 4u + s) * p.n + i] = v[s]; }
  }
}
