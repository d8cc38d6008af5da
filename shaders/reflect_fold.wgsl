// A reflect-padded convolution's input gradient, folded onto the unpadded input (ReflectionPad2d's backward) by
// the register gathers that compute it: their tiles cover the unpadded outputs, and an output within pad of an edge
// also receives the transposed convolution at the padded positions that mirror onto it. x = dy [N, Cin, H, W],
// w = the weight [Cin, Cout, KH, KW], `pad` the convolution's own.

/** Whether position i of an axis of n has mirrors in its pad-wide padding. */
fn hasMirrors(i: u32, n: u32, pad: u32) -> bool {
  return (i >= 1u && i <= pad) || (i + 1u < n && n - 1u - i <= pad);
}

/** The transposed convolution at the positions mirroring onto (oy, ox), for TM output channels from co0, summed over
 * the input channels [ci0, ci1) (a split's, like the tile's own sums): those in mirrored columns, and with `rows`
 * those in mirrored rows of column ox too. Edge-only work: plain loops, the weight loads shared by the TM channels. */
fn mirrorSums(n: u32, co0: u32, oy: u32, ox: u32, pad: u32, rows: bool, ci0: u32, ci1: u32) -> array<f32, TM> {
  let P = i32(pad);
  let s = i32(p.stride);
  var sum: array<f32, TM>;
  for (var my = 0u; my < 3u; my++) {
    let py = reflectedFrom(i32(oy), i32(p.OH), P, my);
    if (py >= i32(p.OH) + P) { continue; }
    for (var mx = select(1u, 0u, rows && my > 0u); mx < 3u; mx++) {
      let px = reflectedFrom(i32(ox), i32(p.OW), P, mx);
      if (px >= i32(p.OW) + P) { continue; }
      for (var kh = 0; kh < i32(p.KH); kh++) {
        let ny = py + P - kh;
        if (ny < 0 || ny % s != 0 || ny / s >= i32(p.H)) { continue; }
        for (var kw = 0; kw < i32(p.KW); kw++) {
          let nx = px + P - kw;
          if (nx < 0 || nx % s != 0 || nx / s >= i32(p.W)) { continue; }
          let at = u32(ny / s) * p.W + u32(nx / s);
          let tap = u32(kh) * p.KW + u32(kw);
          for (var ci = ci0; ci < ci1; ci++) {
            let xv = f32(x[(n * p.Cin + ci) * p.H * p.W + at]);
            for (var i = 0u; i < TM; i++) {
              let co = min(co0 + i, p.Cout - 1u);
              sum[i] = fma(xv, w[(ci * p.Cout + co) * p.KH * p.KW + tap], sum[i]);
            }
          }
        }
      }
    }
  }
  return sum;
}

/** Adds mirrorSums over the input channels [ci0, ci1) to the stored outputs (oy, ox) of slice `split` of y
 * [splits, N, Cout, OH, OW], after the tile's own sums: added to the register tile instead, at an output index only
 * known at run time, they made GPU compilers keep the whole tile in local memory (the H200's folded input gradients
 * ran 4× slower than the zero-padded ones). */
fn addMirrors(n: u32, co0: u32, oy: u32, ox: u32, pad: u32, rows: bool, split: u32, ci0: u32, ci1: u32) {
  let m = mirrorSums(n, co0, oy, ox, pad, rows, ci0, ci1);
  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    let at = (((split * p.N + n) * p.Cout + co) * p.OH + oy) * p.OW + ox;
    y[at] = Y(f32(y[at]) + m[i]);
  }
}
