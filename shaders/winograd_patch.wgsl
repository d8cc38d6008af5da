// x at unpadded (iy, ix) of a channel plane, as the Winograd input transforms read their patches (conv_winograd*_
// input.wgsl): mirrored with REFLECT, else zero outside. A last tile reads up to three rows (columns) past the padded
// input, for outputs that are dropped: mirrored positions are clamped to stay inside.
fn xAt(plane: u32, iy: i32, ix: i32) -> f32 {
  if (REFLECT) {
    let ry = clamp(reflect(iy, i32(p.H)), 0, i32(p.H) - 1);
    let rx = clamp(reflect(ix, i32(p.W)), 0, i32(p.W) - 1);
    return x[plane + u32(ry * i32(p.W) + rx)];
  }
  let inside = iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
  return select(0.0, x[plane + u32(max(iy, 0) * i32(p.W) + max(ix, 0))], inside);
}
