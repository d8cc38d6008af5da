// Winograd F(2×2, 3×3) filter transform: each 3×3 kernel g = w[k, c] (element i of count = Cout·Cin) becomes G g Gᵀ,
// written to u[ξ][k][c].
//   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]

fn g4(g0: f32, g1: f32, g2: f32) -> vec4f {
  return vec4f(g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2);
}

fn transformFilterAt(i: u32, count: u32) {
  let base = i * 9u;
  var e: array<vec4f, 3>; // G g: column j of g transformed
  for (var j = 0u; j < 3u; j++) { e[j] = g4(w[base + j], w[base + 3u + j], w[base + 6u + j]); }
  for (var r = 0u; r < 4u; r++) {
    let v = g4(e[0][r], e[1][r], e[2][r]);
    for (var s = 0u; s < 4u; s++) { u[(r * 4u + s) * count + i] = v[s]; }
  }
}
