// Copies an h×w window of a C-channel map stored as row bands into a destination at column dx0: the window starts
// at (y0, x0) in the map upsampled ×UP (nearest), reflected (REFLECT, PyTorch ReflectionPad2d) or zero outside it,
// each value optionally normalised by stats = [mean[0..C), rstd[0..C)] and passed through ReLU. The map's rows
// [s0, s3) lie in three bands a = [s0, s1), b = [s1, s2), c = [s2, s3), each C × rows × W. The bands are stored as
// SRC and the destination as DST (f32 or f16): values are read into f32, normalised there, and rounded to DST only
// when written; with ACC added to the destination's value first (in f32). Invocation (column j, row r, channel ch):
// a workgroup shares its row and channel, so the band and the source row are uniform in it, and no index is divided
// at run time (on CPU adapters integer division is scalar).

fn kernel(gid: vec3u) {
  let j = gid.x;
  if (j >= p.w) { return; }
  let r = gid.y;
  let ch = gid.z;
  var vy = p.y0 + i32(r);
  var vx = p.x0 + i32(j);
  let VH = i32(p.VH);
  let VW = i32(p.VW);
  if (p.reflect != 0u) {
    vy = reflect(vy, VH);
    vx = reflect(vx, VW);
  }
  var v = 0.0;
  if (vy >= 0 && vy < VH && vx >= 0 && vx < VW) {
    let sy = u32(vy) / UP;
    let sx = u32(vx) / UP;
    if (sy < p.s1) {
      v = f32(a[(ch * (p.s1 - p.s0) + sy - p.s0) * p.W + sx]);
    } else if (sy < p.s2) {
      v = f32(b[(ch * (p.s2 - p.s1) + sy - p.s1) * p.W + sx]);
    } else {
      v = f32(c[(ch * (p.s3 - p.s2) + sy - p.s2) * p.W + sx]);
    }
    if (p.hasStats != 0u) { v = (v - stats[ch]) * stats[p.C + ch]; }
    if (p.relu != 0u) { v = max(v, 0.0); }
  }
  let at = (ch * p.dH + r) * p.dW + p.dx0 + j;
  if (ACC) { v += f32(y[at]); }
  y[at] = DST(v);
}
