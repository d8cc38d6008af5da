// Winograd F(2×2, 3×3), backward: the weight gradient of kernel (k, c) = element i = k·Cin + c from its transformed
// gradient du[ξ][k][c] (the filter transform's backward): Gᵀ du G, a 3×3 kernel, written to dw (added with acc).
// With bias the invocation of (k, 0) also sums the bias gradient Σ dy: plane ξ = 5 of the output gradient's
// transform dm holds each tile's sum (row 1 of A is [1 1]). nW = Cout·Cin kernels; P tiles.
//   Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]

fn gt3(m: vec4f) -> vec3f {
  return vec3f(m.x + 0.5 * (m.y + m.z), 0.5 * (m.y - m.z), 0.5 * (m.y + m.z) + m.w);
}

fn filterGradAt(i: u32, nW: u32, Cin: u32, P: u32, acc: bool, bias: bool) {
  var e: array<vec3f, 4>; // Gᵀ du: column s transformed
  for (var s = 0u; s < 4u; s++) {
    e[s] = gt3(vec4f(du[s * nW + i], du[(4u + s) * nW + i], du[(8u + s) * nW + i], du[(12u + s) * nW + i]));
  }
  for (var r = 0u; r < 3u; r++) {
    let g = gt3(vec4f(e[0][r], e[1][r], e[2][r], e[3][r]));
    for (var s = 0u; s < 3u; s++) {
      let at = i * 9u + r * 3u + s;
      dw[at] = select(g[s], g[s] + dw[at], acc);
    }
  }
  if (bias && i % Cin == 0u) {
    let k = i / Cin;
    let row = (5u * (nW / Cin) + k) * P;
    var sum = 0.0;
    for (var t = 0u; t < P; t++) { sum += dm[row + t]; }
    db[k] = select(sum, sum + db[k], acc);
  }
}
