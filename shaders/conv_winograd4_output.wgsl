// Winograd F(4×4, 3×3) output transform: the 36 products m[ξ][k][t] of a tile become its 4×4 outputs Aᵀ m A
// (+ bias; with ACC added to y). Element i = (k, t) (winograd_tile.wgsl).
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]

fn at4(m: array<f32, 6>) -> vec4f {
  let a = m[1] + m[2];
  let b = m[1] - m[2];
  let c = m[3] + m[4];
  let d = m[3] - m[4];
  return vec4f(m[0] + a + c, b + 2.0 * d, a + 4.0 * c, b + 8.0 * d + m[5]);
}

fn kernel(i: u32) {
  let tile = winogradTile(i, p.ty0);
  let k = tile.channel;
  var e: array<vec4f, 6>; // Aᵀ m: column s of m transformed
  for (var s = 0u; s < 6u; s++) {
    var col: array<f32, 6>;
    for (var r = 0u; r < 6u; r++) { col[r] = m[operandAt(r * 6u + s, k, p.Cout, tile.t)]; }
    e[s] = at4(col);
  }
  let bias = select(0.0, b[k], p.hasBias != 0u);
  let plane = (tile.n * p.Cout + k) * p.OH * p.OW;
  for (var r = 0u; r < 4u; r++) {
    let oy = 4u * tile.ty + r;
    if (oy >= p.OH) { break; }
    let out = at4(array<f32, 6>(e[0][r], e[1][r], e[2][r], e[3][r], e[4][r], e[5][r])) + bias;
    for (var s = 0u; s < 4u; s++) {
      let ox = 4u * tile.tx + s;
      if (ox >= p.OW) { break; }
      let at = plane + oy * p.OW + ox;
      y[at] = Y(select(out[s], out[s] + f32(y[at]), ACC));
    }
  }
}
