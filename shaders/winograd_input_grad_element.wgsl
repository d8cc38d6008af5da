// Winograd F(2×2, 3×3), backward: element i = (n, c, iy, ix) of dx from the patches' gradients dv[ξ][c][t] (each
// patch d's is B dv Bᵀ), as a gather without atomics: it sums, over every position of the padded input that reads it
// (itself and, with REFLECT, its mirrors: paddedSources), the patches that hold that position: two tiles per axis,
// whose rows of B have 1 and 3 non-zeros, so 4 terms per axis and 16 reads per position.
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]

struct AxisTerms { tile: vec4i, row: vec4u, coef: vec4f }

/** The 4 (tile, row of the transformed patch, coefficient) terms of padded coordinate q; tiles outside [0, tiles)
 * get coefficient 0 and tile 0. */
fn axisTerms(q: i32, tiles: i32) -> AxisTerms {
  let h = q / 2;
  var a: AxisTerms;
  if (q % 2 == 0) {
    a = AxisTerms(vec4i(h, h - 1, h - 1, h - 1), vec4u(0u, 0u, 1u, 2u), vec4f(1.0, -1.0, 1.0, 1.0));
  } else {
    a = AxisTerms(vec4i(h, h, h, h - 1), vec4u(1u, 2u, 3u, 3u), vec4f(1.0, -1.0, 1.0, -1.0));
  }
  for (var k = 0; k < 4; k++) {
    if (a.tile[k] < 0 || a.tile[k] >= tiles) {
      a.coef[k] = 0.0;
      a.tile[k] = 0;
    }
  }
  return a;
}

/** dx at element i (before any earlier gradient is added). */
fn inputGradAt(i: u32) -> f32 {
  let ix = i % p.W;
  let iy = (i / p.W) % p.H;
  let c = (i / (p.W * p.H)) % p.Cin;
  let n = i / (p.W * p.H * p.Cin);
  let pad = i32(p.pad);
  let sy = paddedSources(i32(iy), i32(p.H), pad, pad, REFLECT);
  let sx = paddedSources(i32(ix), i32(p.W), pad, pad, REFLECT);
  var acc = 0.0;
  for (var a = 0; a < 3; a++) {
    if (sy[a] < 0) { continue; }
    let ty = axisTerms(sy[a], i32(p.TH));
    for (var b = 0; b < 3; b++) {
      if (sx[b] < 0) { continue; }
      let tx = axisTerms(sx[b], i32(p.TW));
      for (var u = 0; u < 4; u++) {
        let rowBase = n * p.TH + u32(ty.tile[u]);
        for (var v = 0; v < 4; v++) {
          let xi = ty.row[u] * 4u + tx.row[v];
          let t = rowBase * p.TW + u32(tx.tile[v]);
          acc = fma(ty.coef[u] * tx.coef[v], dv[operandAt(xi, c, p.Cin, t)], acc);
        }
      }
    }
  }
  return acc;
}
