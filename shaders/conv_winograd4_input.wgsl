// Winograd F(4×4, 3×3) input transform: each 6×6 patch d of x that overlaps a 4×4 output tile becomes Bᵀ d B, 36
// values, one per transformed plane ξ, written to xt[ξ][c][t]. Element i = (c, t) (winograd_tile.wgsl); the patch
// starts at padded (4ty, 4tx) and reads x as winograd_patch.wgsl's patchAt does.
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]

fn bt6(d: array<f32, 6>) -> array<f32, 6> {
  return array<f32, 6>(
    4.0 * d[0] - 5.0 * d[2] + d[4],
    -4.0 * (d[1] + d[2]) + d[3] + d[4],
    4.0 * (d[1] - d[2]) - d[3] + d[4],
    2.0 * (d[3] - d[1]) - d[2] + d[4],
    2.0 * (d[1] - d[3]) - d[2] + d[4],
    4.0 * d[1] - 5.0 * d[3] + d[5],
  );
}

fn kernel(i: u32) {
  let tile = winogradTile(i, p.ty0);
  let c = tile.channel;
  let q = tilePatch(tile, 4u);
  var e: array<array<f32, 6>, 6>; // Bᵀ d: column s of the patch transformed
  for (var s = 0; s < 6; s++) {
    var col: array<f32, 6>;
    for (var r = 0; r < 6; r++) { col[r] = patchAt(q, r, s); }
    e[s] = bt6(col);
  }
  for (var r = 0u; r < 6u; r++) {
    let v = bt6(array<f32, 6>(e[0][r], e[1][r], e[2][r], e[3][r], e[4][r], e[5][r]));
    for (var s = 0u; s < 6u; s++) { xt[operandAt(r * 6u + s, c, p.Cin, tile.t)] = v[s]; }
  }
}
