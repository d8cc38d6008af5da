// The input patch of a Winograd tile, as the input transforms read it (conv_winograd*_input.wgsl): its channel
// plane of x and its first row and column, unpadded (the tile's output origin less the padding).
struct Patch { plane: u32, iy0: i32, ix0: i32 }

/** The patch of `tile`, whose outputs are m × m. */
fn tilePatch(tile: WinogradTile, m: u32) -> Patch {
  return Patch((tile.n * p.Cin + tile.channel) * p.H * p.W, i32(m * tile.ty) - i32(p.pad), i32(m * tile.tx) - i32(p.pad));
}

/** x at row r, column s of patch q: mirrored with REFLECT, else zero outside. A last tile reads up to three rows
 * (columns) past the padded input, for outputs that are dropped: mirrored positions are clamped to stay inside. */
fn patchAt(q: Patch, r: i32, s: i32) -> f32 {
  let iy = q.iy0 + r;
  let ix = q.ix0 + s;
  if (REFLECT) {
    let ry = clamp(reflect(iy, i32(p.H)), 0, i32(p.H) - 1);
    let rx = clamp(reflect(ix, i32(p.W)), 0, i32(p.W) - 1);
    return f32(x[q.plane + u32(ry * i32(p.W) + rx)]);
  }
  let inside = iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
  return select(0.0, f32(x[q.plane + u32(max(iy, 0) * i32(p.W) + max(ix, 0))]), inside);
}
