// Convolution weight gradient, one kernel row per invocation: dw[co, ci, kh, kw] = Σ dy[n,co,oy,ox]·x[n,ci,iy,ix]
// with iy = oy·s − pad + kh, ix = ox·s − pad + kw. Each invocation owns TM output channels × the KW taps of one
// (ci, kh) row and walks the output pixels; the inputs under its taps move by s per pixel, so it loads s new inputs
// per pixel where conv_weight_grad.wgsl's tap tiles load one per tap. The better choice when few output channels
// leave little reuse per input load (the 3-channel head). Same split-K, bias sum, REFLECT and ACC as conv_weight_grad.wgsl.

/** x of one row at padded column ix: zero or mirrored outside the input. */
fn xAt(row: u32, rowOk: bool, ix: i32) -> f32 {
  if (REFLECT) { return f32(x[row + u32(reflect(ix, i32(p.W)))]); }
  return select(0.0, f32(x[row + u32(max(ix, 0))]), rowOk && ix >= 0 && ix < i32(p.W));
}

fn kernel(gid: vec3u, wid: vec3u) {
  let kernelRow = gid.x;
  let co0 = wid.y * TM;
  if (kernelRow >= p.Cin * p.KH || co0 >= p.Cout) { return; }
  let ci = kernelRow / p.KH;
  let kh = kernelRow % p.KH;
  var co: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { co[i] = min(co0 + i, p.Cout - 1u); }
  var acc: array<f32, TM * KW>;
  var bsum: array<f32, TM>;
  let r0 = wid.z * p.rowsPerSplit;
  let r1 = min(r0 + p.rowsPerSplit, p.N * p.OH);
  for (var rr = r0; rr < r1; rr++) {
    let n = rr / p.OH;
    let oy = rr % p.OH;
    var iy = i32(oy * S + kh) - i32(p.pad);
    if (REFLECT) { iy = reflect(iy, i32(p.H)); }
    let rowOk = iy >= 0 && iy < i32(p.H);
    let xrow = ((n * p.Cin + ci) * p.H + u32(max(iy, 0))) * p.W;
    var dyrow: array<u32, TM>;
    for (var i = 0u; i < TM; i++) { dyrow[i] = ((n * p.Cout + co[i]) * p.OH + oy) * p.OW; }
    var xv: array<f32, KW>;
    for (var j = 0u; j < KW; j++) { xv[j] = xAt(xrow, rowOk, i32(j) - i32(p.pad)); }
    for (var ox = 0u; ox < p.OW; ox++) {
      for (var i = 0u; i < TM; i++) {
        let g = dy[dyrow[i] + ox];
        bsum[i] += g;
        for (var j = 0u; j < KW; j++) { acc[i * KW + j] = fma(g, xv[j], acc[i * KW + j]); }
      }
      // Inputs under the taps at the next pixel: taps below KEEP take those of tap + S, the rest are loaded.
      for (var j = 0u; j < KEEP; j++) { xv[j] = xv[j + S]; }
      for (var j = KEEP; j < KW; j++) { xv[j] = xAt(xrow, rowOk, i32((ox + 1u) * S + j) - i32(p.pad)); }
    }
  }
  let Q = p.Cin * p.KH * KW;
  let q0 = kernelRow * KW;
  for (var i = 0u; i < TM; i++) {
    if (co0 + i >= p.Cout) { break; }
    for (var j = 0u; j < KW; j++) {
      let at = (wid.z * p.Cout + co0 + i) * Q + q0 + j;
      dw[at] = select(acc[i * KW + j], acc[i * KW + j] + dw[at], ACC);
    }
    let bat = wid.z * p.Cout + co0 + i;
    if (p.hasBias != 0u && kernelRow == 0u) { db[bat] = select(bsum[i], bsum[i] + db[bat], ACC); }
  }
}
