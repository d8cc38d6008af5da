// Winograd F(2×2, 3×3) input transform (Lavin & Gray 2016): each 4×4 patch d of x that overlaps a 2×2 output tile
// becomes Bᵀ d B, 16 values, one per transformed plane ξ. Element i = (c, t) with t = (n·TH + ty)·TW + tx (tile rows
// from ty0); the patch starts at padded (2ty, 2tx) and reads x as winograd_patch.wgsl's patchAt does. Written to
// xt[ξ][c][t], or with TRANSPOSE to xt[ξ][t][c] (the weight gradient's GEMM operand).
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]

/** Bᵀ d for one column (row) d of a patch. */
fn bt4(d: vec4f) -> vec4f {
  return vec4f(d.x - d.z, d.y + d.z, d.z - d.y, d.y - d.w);
}

fn transformInputTile(i: u32, ty0: u32) {
  let tile = winogradTile(i, ty0);
  let c = tile.channel;
  let q = tilePatch(tile, 2u);
  // Bᵀ d along columns, then (Bᵀ d) B along rows.
  var e: array<vec4f, 4>;
  for (var s = 0; s < 4; s++) {
    e[s] = bt4(vec4f(patchAt(q, 0, s), patchAt(q, 1, s), patchAt(q, 2, s), patchAt(q, 3, s)));
  }
  for (var r = 0u; r < 4u; r++) {
    let v = bt4(vec4f(e[0][r], e[1][r], e[2][r], e[3][r]));
    for (var s = 0u; s < 4u; s++) {
      let xi = r * 4u + s;
      xt[select(operandAt(xi, c, p.Cin, tile.t), (xi * tileCount() + tile.t) * p.Cin + c, TRANSPOSE)] = v[s];
    }
  }
}
