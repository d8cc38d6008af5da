// Phase gather: y[n,co,oy,ox] = Σ x[n,ci,iy,ix]·w[ci,co,kh,kw] over oy = iy·s − pad + kh (transposed convolution; also
// conv2d's input gradient at stride > 1, with x = dy and w = the conv weight, which has this layout already).
// The outputs fall into stride² phases (oy mod s, ox mod s); within a phase the contributing taps are fixed
// (kh ≡ oy + pad mod s, likewise kw), so each invocation loops only over its phase's taps. Tiles are numbered
// phase-major; each invocation owns TM output channels × TN outputs ox = px + s·(t0 + j) of one row, and
// consecutive valid kw read the same inputs shifted by one, so each (ci, kh) loads TN + ⌈KW / s⌉ − 1 inputs.
// With FOLD (a reflect-padded conv's input gradient) the mirrors are added (reflect_fold.wgsl); with ACC the
// results are added to y. Split-K as in conv_direct_gather.wgsl: workgroup z / zTiles sums ciPerSplit input channels
// into its slice of y; the first slice also takes the bias, each slice the mirrors over its channels.

fn kernel(gid: vec3u, wid: vec3u, nwg: vec3u) {
  // The stride and a square kernel's size are compile-time constants (conv_direct_gather.wgsl).
  let s = S;
  let KH = select(p.KH, KS, KS != 0u);
  let KW = select(p.KW, KS, KS != 0u);
  let rowsPerPhase = (p.OH + s - 1u) / s;
  let perPhase = p.N * rowsPerPhase * p.tilesPerPhase;
  let split = wid.z / p.zTiles;
  let tile = gid.x + (wid.z % p.zTiles) * nwg.x * WG;
  let co0 = wid.y * TM;
  if (tile >= perPhase * s * s || co0 >= p.Cout) { return; }
  let phase = tile / perPhase;
  let py = phase / s;
  let px = phase % s;
  let rest = tile % perPhase;
  let t0 = (rest % p.tilesPerPhase) * TN;
  let r = (rest / p.tilesPerPhase) % rowsPerPhase;
  let n = rest / (p.tilesPerPhase * rowsPerPhase);
  let oy = py + s * r;
  if (oy >= p.OH) { return; }
  let K = KH * KW;
  let kh0 = (py + p.pad) % s;
  let kw0 = (px + p.pad) % s;
  // Input row and column of the first valid tap (kh0, kw0); each next valid kh or kw (+s) moves them back by one.
  // Counters instead of divisions in the loops: lanes differ in phase, so a division there is per lane.
  let iyFirst = i32(r + (py + p.pad - kh0) / s);
  let ixFirst = i32(t0 + (px + p.pad - kw0) / s);
  var wrow: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { wrow[i] = min(co0 + i, p.Cout - 1u) * K; }
  var acc: array<f32, TM * TN>;
  let ci0 = split * p.ciPerSplit;
  let ci1 = min(p.Cin, ci0 + p.ciPerSplit);
  for (var ci = ci0; ci < ci1; ci++) {
    let plane = (n * p.Cin + ci) * p.H;
    let wci = ci * p.Cout * K;
    var iy = iyFirst;
    for (var kh = kh0; kh < KH; kh += s) {
      if (iy >= 0 && iy < i32(p.H)) {
        let row = (plane + u32(iy)) * p.W;
        var xv: array<f32, TN>;
        var ix = ixFirst;
        for (var kw = kw0; kw < KW; kw += s) {
          if (kw == kw0) {
            for (var j = 0u; j < TN; j++) {
              let xj = ix + i32(j);
              xv[j] = select(0.0, x[row + u32(max(xj, 0))], xj >= 0 && xj < i32(p.W));
            }
          } else {
            // Output j now reads the input output j − 1 read for the previous kw.
            ix -= 1;
            for (var j = TN - 1u; j > 0u; j--) { xv[j] = xv[j - 1u]; }
            xv[0] = select(0.0, x[row + u32(max(ix, 0))], ix >= 0 && ix < i32(p.W));
          }
          let k = wci + kh * KW + kw;
          for (var i = 0u; i < TM; i++) {
            let wv = w[wrow[i] + k];
            for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(wv, xv[j], acc[i * TN + j]); }
          }
        }
      }
      iy -= 1;
    }
  }
  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    let bias = select(0.0, b[co], p.hasBias != 0u && split == 0u);
    let out = (((split * p.N + n) * p.Cout + co) * p.OH + oy) * p.OW;
    for (var j = 0u; j < TN; j++) {
      let ox = px + (t0 + j) * s;
      if (ox >= p.OW) { continue; }
      let v = acc[i * TN + j] + bias;
      y[out + ox] = Y(select(v, v + f32(y[out + ox]), ACC));
    }
  }
  if (FOLD) {
    for (var j = 0u; j < TN; j++) {
      let ox = px + (t0 + j) * s;
      if (ox < p.OW && (hasMirrors(oy, p.OH, p.pad) || hasMirrors(ox, p.OW, p.pad))) { addMirrors(n, co0, oy, ox, p.pad, true, split, ci0, ci1); }
    }
  }
}
