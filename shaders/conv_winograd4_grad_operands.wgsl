// Winograd F(4×4, 3×3), backward: a layer's three gradient operands in one dispatch, as
// conv_winograd_grad_operands.wgsl makes F(2×2)'s. Elements [0, nDm): each 4×4 tile of the output gradient dy
// becomes A dy Aᵀ, the gradient of the tile's 36 products, → dm[ξ][k][t] (dy past OH, OW is zero: dyAt); then nXt of
// x's patches transposed → xt[ξ][t][c]; then nU filters → u[ξ][k][c] (winograd4_transforms.wgsl).
//   A = [1 0 0 0; 1 1 1 1; 1 −1 1 −1; 1 2 4 8; 1 −2 4 −8; 0 0 0 1]   (Aᵀ of conv_winograd4_output.wgsl)

/** A y for one column (row) y of a tile. */
fn a6(y: vec4f) -> array<f32, 6> {
  let even = y.x + y.z;
  let odd = y.y + y.w;
  return array<f32, 6>(y.x, even + odd, even - odd, y.x + 2.0 * y.y + 4.0 * y.z + 8.0 * y.w, y.x - 2.0 * y.y + 4.0 * y.z - 8.0 * y.w, y.w);
}

fn transformGradOutput4Tile(i: u32) {
  let tile = winogradTile(i, 0u);
  let plane = (tile.n * p.Cout + tile.channel) * p.OH * p.OW;
  let oy = 4u * tile.ty;
  let ox = 4u * tile.tx;
  var e: array<array<f32, 6>, 4>; // A dy: column s of the tile transformed
  for (var s = 0u; s < 4u; s++) {
    e[s] = a6(vec4f(dyAt(plane, oy, ox + s), dyAt(plane, oy + 1u, ox + s), dyAt(plane, oy + 2u, ox + s), dyAt(plane, oy + 3u, ox + s)));
  }
  for (var r = 0u; r < 6u; r++) {
    let v = a6(vec4f(e[0][r], e[1][r], e[2][r], e[3][r]));
    for (var s = 0u; s < 6u; s++) { dm[operandAt(r * 6u + s, tile.channel, p.Cout, tile.t)] = v[s]; }
  }
}

fn kernel(i: u32) {
  if (i < p.nDm) {
    transformGradOutput4Tile(i);
    return;
  }
  let j = i - p.nDm;
  if (j < p.nXt) {
    transformInput4Tile(j, 0u);
    return;
  }
  transformFilter4At(j - p.nXt, p.nU);
}
