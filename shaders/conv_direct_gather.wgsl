// Direct gather: y[n,co,oy,ox] = Σ x[n,ci,oy·s − pad + kh, ox·s − pad + kw]·w[co,ci,kh,kw], an implicit GEMM,
// register-tiled: each invocation accumulates TM output channels × TN consecutive output pixels of one row,
// reading x and w straight from storage (on CPU-like adapters workgroup memory and barriers cost more than they
// save). Computes conv2d's forward, the transposed conv's input gradient, and with FLIP conv2d's stride-1 input
// gradient: x = its dy and w = its own weight ([Cin, Cout, KH, KW] in this shader's channel names), read rotated by
// 180° and channel-swapped (no flipped copy, no extra dispatch). With REFLECT the padding mirrors x
// (ReflectionPad2d read in place: no padded copy); a tap's index is a function of the padded coordinate alone, so
// the stride-1 shift below still holds. With FLIP and FOLD the convolution was reflect-padded and the outputs are
// its unpadded input's gradient: the rows mirroring onto an output row run the same loop (their columns are the
// tile's own), mirrored columns are added per output (reflect_fold.wgsl). With ACC the results are added to y.
// Split-K (GPUs, where a batch-1 layer has too few tiles to fill the adapter): workgroup z / zTiles takes ciPerSplit
// of the input channels and writes its partial sums to that slice of y (reduce_splits.wgsl adds the slices in
// order); the first slice also takes the bias and the mirrored columns. One split: ciPerSplit = Cin.

/** x of one row at padded column ix: zero or mirrored outside the input. */
fn xAt(row: u32, ix: i32) -> f32 {
  if (REFLECT) { return x[row + u32(reflect(ix, i32(p.W)))]; }
  return select(0.0, x[row + u32(max(ix, 0))], ix >= 0 && ix < i32(p.W));
}

fn kernel(gid: vec3u, wid: vec3u, nwg: vec3u) {
  let split = wid.z / p.zTiles;
  let tile = gid.x + (wid.z % p.zTiles) * nwg.x * WG;
  let co0 = wid.y * TM;
  if (tile >= p.N * p.OH * p.tilesX || co0 >= p.Cout) { return; }
  // FOLD numbers the tiles of a column consecutively: the lanes that share a subgroup then agree on which of their
  // outputs have mirrored columns, so only edge columns' subgroups take that path.
  let ox0 = select(tile % p.tilesX, (tile / p.OH) % p.tilesX, FOLD) * TN;
  let oy = select((tile / p.tilesX) % p.OH, tile % p.OH, FOLD);
  let n = tile / (p.tilesX * p.OH);
  let K = p.KH * p.KW;
  let foldPad = p.KH - 1u - p.pad; // FLIP's pad is KH − 1 − the convolution's
  var ix0: array<i32, TN>;
  for (var j = 0u; j < TN; j++) { ix0[j] = i32((ox0 + j) * p.stride) - i32(p.pad); }
  var wrow: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let co = min(co0 + i, p.Cout - 1u);
    wrow[i] = select(co * p.Cin * K, co * K + K - 1u, FLIP);
  }
  var acc: array<f32, TM * TN>;
  for (var my = 0u; my < select(1u, 3u, FOLD); my++) {
    var py = i32(oy * p.stride);
    if (my > 0u) {
      py = reflectedFrom(i32(oy), i32(p.OH), i32(foldPad), my);
      if (py >= i32(p.OH + foldPad)) { continue; }
    }
    let iy0 = py - i32(p.pad);
    for (var ci = split * p.ciPerSplit; ci < min(p.Cin, (split + 1u) * p.ciPerSplit); ci++) {
      let plane = (n * p.Cin + ci) * p.H * p.W;
      let wci = select(ci * K, ci * p.Cout * K, FLIP);
      for (var kh = 0u; kh < p.KH; kh++) {
        var iy = iy0 + i32(kh);
        if (REFLECT) {
          iy = reflect(iy, i32(p.H));
        } else if (iy < 0 || iy >= i32(p.H)) {
          continue;
        }
        let row = plane + u32(iy) * p.W;
        var xv: array<f32, TN>;
        for (var kw = 0u; kw < p.KW; kw++) {
          if (kw == 0u || p.stride != 1u) {
            for (var j = 0u; j < TN; j++) { xv[j] = xAt(row, ix0[j] + i32(kw)); }
          } else {
            // Stride 1: the next tap's inputs are these shifted by one, plus one new load.
            for (var j = 0u; j + 1u < TN; j++) { xv[j] = xv[j + 1u]; }
            xv[TN - 1u] = xAt(row, ix0[TN - 1u] + i32(kw));
          }
          let tap = kh * p.KW + kw;
          for (var i = 0u; i < TM; i++) {
            let wv = w[select(wrow[i] + wci + tap, wrow[i] + wci - tap, FLIP)];
            for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(wv, xv[j], acc[i * TN + j]); }
          }
        }
      }
    }
  }
  if (FOLD && split == 0u) {
    for (var j = 0u; j < TN; j++) {
      if (ox0 + j < p.OW && hasMirrors(ox0 + j, p.OW, foldPad)) {
        let m = mirrorSums(n, co0, oy, ox0 + j, foldPad, false);
        for (var i = 0u; i < TM; i++) { acc[i * TN + j] += m[i]; }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    let bias = select(0.0, b[co], p.hasBias != 0u && split == 0u);
    let out = (((split * p.N + n) * p.Cout + co) * p.OH + oy) * p.OW;
    for (var j = 0u; j < TN; j++) {
      let ox = ox0 + j;
      if (ox >= p.OW) { continue; }
      let v = acc[i * TN + j] + bias;
      y[out + ox] = select(v, v + y[out + ox], ACC);
    }
  }
}
