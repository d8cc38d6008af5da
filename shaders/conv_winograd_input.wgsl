// Winograd F(2×2, 3×3) input transform (Lavin & Gray 2016): each 4×4 patch d of x that overlaps a 2×2 output tile
// becomes Bᵀ d B, 16 values, one per transformed plane ξ. Element i = (c, t) with t = (n·TH + ty)·TW + tx; the patch
// starts at padded (2ty, 2tx) and reads x mirrored (REFLECT) or zero outside. Written to v[ξ][c][t], or with
// TRANSPOSE to v[ξ][t][c] (the weight gradient's GEMM operand).
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]

fn xAt(plane: u32, iy: i32, ix: i32) -> f32 {
  if (REFLECT) { return x[plane + u32(reflect(iy, i32(p.H)) * i32(p.W) + reflect(ix, i32(p.W)))]; }
  let inside = iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
  return select(0.0, x[plane + u32(max(iy, 0) * i32(p.W) + max(ix, 0))], inside);
}

fn kernel(i: u32) {
  let tile = winogradTile(i);
  let c = tile.channel;
  let plane = (tile.n * p.Cin + c) * p.H * p.W;
  let iy0 = i32(2u * tile.ty) - i32(p.pad);
  let ix0 = i32(2u * tile.tx) - i32(p.pad);
  // Bᵀ d along columns, then (Bᵀ d) B along rows.
  var e: array<vec4f, 4>;
  for (var s = 0; s < 4; s++) {
    let d = vec4f(xAt(plane, iy0, ix0 + s), xAt(plane, iy0 + 1, ix0 + s), xAt(plane, iy0 + 2, ix0 + s), xAt(plane, iy0 + 3, ix0 + s));
    e[s] = vec4f(d.x - d.z, d.y + d.z, d.z - d.y, d.y - d.w);
  }
  for (var r = 0u; r < 4u; r++) {
    let row = vec4f(e[0][r], e[1][r], e[2][r], e[3][r]);
    let v = vec4f(row.x - row.z, row.y + row.z, row.z - row.y, row.y - row.w);
    for (var s = 0u; s < 4u; s++) {
      let xi = r * 4u + s;
      xt[select(operandAt(xi, c, p.Cin, tile.t), (xi * tileCount() + tile.t) * p.Cin + c, TRANSPOSE)] = v[s];
    }
  }
}
