// Winograd F(2×2, 3×3) output transform: the 16 products m[ξ][k][t] of a tile become its 2×2 outputs Aᵀ m A
// (+ bias; with ACC added to y). Element i = (k, t), t = (n·TH + ty)·TW + tx.
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]

fn at2(m: vec4f) -> vec2f {
  return vec2f(m.x + m.y + m.z, m.y - m.z - m.w);
}

fn kernel(i: u32) {
  let tile = winogradTile(i, p.ty0);
  let k = tile.channel;
  var e: array<vec2f, 4>; // Aᵀ m: column s of m transformed
  for (var s = 0u; s < 4u; s++) {
    e[s] = at2(vec4f(m[operandAt(s, k, p.Cout, tile.t)], m[operandAt(4u + s, k, p.Cout, tile.t)], m[operandAt(8u + s, k, p.Cout, tile.t)], m[operandAt(12u + s, k, p.Cout, tile.t)]));
  }
  let bias = select(0.0, b[k], p.hasBias != 0u);
  let plane = (tile.n * p.Cout + k) * p.OH * p.OW;
  for (var r = 0u; r < 2u; r++) {
    let oy = 2u * tile.ty + r;
    if (oy >= p.OH) { break; }
    let out = at2(vec4f(e[0][r], e[1][r], e[2][r], e[3][r])) + bias;
    for (var s = 0u; s < 2u; s++) {
      let ox = 2u * tile.tx + s;
      if (ox >= p.OW) { break; }
      let at = plane + oy * p.OW + ox;
      y[at] = Y(select(out[s], out[s] + f32(y[at]), ACC));
    }
  }
}
