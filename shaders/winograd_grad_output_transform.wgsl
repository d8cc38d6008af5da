// Winograd F(2×2, 3×3), backward: each 2×2 tile of the output gradient dy becomes A dy Aᵀ, the gradient of the tile's
// 16 products, written to dm[ξ][k][t] (both gradient GEMMs read it). Element i = (k, t); dy past OH, OW is zero.
//   A = [1 0; 1 1; 1 −1; 0 −1]

fn dyAt(plane: u32, oy: u32, ox: u32) -> f32 {
  return select(0.0, dy[plane + min(oy, p.OH - 1u) * p.OW + min(ox, p.OW - 1u)], oy < p.OH && ox < p.OW);
}

/** A y for one column (row) y of a tile. */
fn a4(y0: f32, y1: f32) -> vec4f {
  return vec4f(y0, y0 + y1, y0 - y1, -y1);
}

fn transformGradOutputTile(i: u32) {
  let tile = winogradTile(i, 0u);
  let plane = (tile.n * p.Cout + tile.channel) * p.OH * p.OW;
  let oy = 2u * tile.ty;
  let ox = 2u * tile.tx;
  var e: array<vec4f, 2>; // A dy: column s of the tile transformed
  for (var s = 0u; s < 2u; s++) {
    e[s] = a4(dyAt(plane, oy, ox + s), dyAt(plane, oy + 1u, ox + s));
  }
  for (var r = 0u; r < 4u; r++) {
    let v = a4(e[0][r], e[1][r]);
    for (var s = 0u; s < 4u; s++) { dm[operandAt(r * 4u + s, tile.channel, p.Cout, tile.t)] = v[s]; }
  }
}
