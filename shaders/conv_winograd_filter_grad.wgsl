// Winograd F(2×2, 3×3), backward: the weight gradient of kernel (k, c) from its transformed gradient du[ξ][k][c]
// (the filter transform's backward): Gᵀ du G, a 3×3 kernel. With BIAS the invocation of (k, 0) also sums the bias
// gradient Σ dy: plane ξ = 5 of the output gradient's transform dm holds each tile's sum (row 1 of A is [1 1]).
// With ACC both are added to dw and db.
//   Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]

fn gt3(m: vec4f) -> vec3f {
  return vec3f(m.x + 0.5 * (m.y + m.z), 0.5 * (m.y - m.z), 0.5 * (m.y + m.z) + m.w);
}

fn kernel(i: u32) {
  var e: array<vec3f, 4>; // Gᵀ du: column s transformed
  for (var s = 0u; s < 4u; s++) {
    e[s] = gt3(vec4f(du[s * p.n + i], du[(4u + s) * p.n + i], du[(8u + s) * p.n + i], du[(12u + s) * p.n + i]));
  }
  for (var r = 0u; r < 3u; r++) {
    let g = gt3(vec4f(e[0][r], e[1][r], e[2][r], e[3][r]));
    for (var s = 0u; s < 3u; s++) {
      let at = i * 9u + r * 3u + s;
      dw[at] = select(g[s], g[s] + dw[at], ACC);
    }
  }
  if (BIAS && i % p.Cin == 0u) {
    let k = i / p.Cin;
    let row = (5u * (p.n / p.Cin) + k) * p.P;
    var sum = 0.0;
    for (var t = 0u; t < p.P; t++) { sum += dm[row + t]; }
    db[k] = select(sum, sum + db[k], ACC);
  }
}
