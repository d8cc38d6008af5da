// The 'tiles' strategy of the three convolution GEMMs (src/kernels/conv_gemm.ts), the classic workgroup-memory
// tiling for GPUs: a 16×16 workgroup computes a 64×64 block of C[M, Ncol] = Σ_k A(m, k)·B(k, n), staging 16-deep
// slices of A and B in workgroup memory; each invocation accumulates 4×4 outputs. The operands are read through the
// convolution's index maps (implicit GEMM):
//   MODE 0  directGather   C = y[n, co, oy, ox]     A = w[co, (ci, kh, kw)]  B = x at (oy·s − pad + kh, …)
//   MODE 1  phaseGather    C = y[n, co, oy, ox]     A = w[ci, co, kh, kw]    B = x at ((oy + pad − kh)/s, …), 0 off-phase
//   MODE 2  weightGrad     C = dw[co, (ci, kh, kw)] A = dy[n, co, oy, ox]    B = x at (oy·s − pad + kh, …)
// With REFLECT the padding mirrors x instead of reading zeros (modes 0 and 2), or in mode 1 (a reflect-padded conv's
// input gradient) B sums the padded positions that mirror onto each output (ReflectionPad2d's backward, folded in);
// with ACC (no split) the sums are added to c. Every output's sum runs over k in increasing order. MODE 2 splits k (the output pixels) over workgroup z: slice z
// of c receives the partial sums over k in [z·kPerSplit, (z+1)·kPerSplit) (reduce_splits.wgsl adds the slices).

fn dimM() -> u32 { return p.Cout; }
fn dimN() -> u32 {
  if (MODE == 2u) { return p.Cin * p.KH * p.KW; }
  return p.N * p.OH * p.OW;
}
fn dimK() -> u32 {
  if (MODE == 2u) { return p.N * p.OH * p.OW; }
  return p.Cin * p.KH * p.KW;
}

/** x at row iy, column ix of plane (n, ci), 0 outside. */
fn xAt(plane: u32, iy: i32, ix: i32) -> f32 {
  if (iy < 0 || ix < 0 || iy >= i32(p.H) || ix >= i32(p.W)) { return 0.0; }
  return f32(x[(plane * p.H + u32(iy)) * p.W + u32(ix)]);
}

/** Mode 1's x at tap (kh, kw) for output (oy, ox), 0 off-phase. */
fn transposedTap(plane: u32, kh: i32, kw: i32, oy: i32, ox: i32) -> f32 {
  let s = i32(p.stride);
  let ny = oy + i32(p.pad) - kh;
  let nx = ox + i32(p.pad) - kw;
  if (ny < 0 || nx < 0 || ny % s != 0 || nx % s != 0) { return 0.0; }
  return xAt(plane, ny / s, nx / s);
}

/** A tap q = (ci, kh, kw) of the unfolded input, and an output pixel o = (n, oy, ox). */
struct Tap { ci: u32, kh: i32, kw: i32 }
struct Pixel { n: u32, oy: i32, ox: i32 }

fn tapOf(q: u32) -> Tap {
  let K = p.KH * p.KW;
  return Tap(q / K, i32((q % K) / p.KW), i32(q % p.KW));
}

fn pixelOf(o: u32) -> Pixel {
  return Pixel(o / (p.OW * p.OH), i32((o / p.OW) % p.OH), i32(o % p.OW));
}

/** x at tap q for output pixel o, 0 outside the input (padding, stride gaps). */
fn unfolded(q: Tap, o: Pixel) -> f32 {
  let kh = q.kh;
  let kw = q.kw;
  let oy = o.oy;
  let ox = o.ox;
  let plane = o.n * p.Cin + q.ci;
  if (MODE == 1u) {
    if (!REFLECT) { return transposedTap(plane, kh, kw, oy, ox); }
    let P = i32(p.pad);
    var sum = 0.0;
    for (var my = 0u; my < 3u; my++) {
      let py = reflectedFrom(oy, i32(p.OH), P, my);
      if (py >= i32(p.OH) + P) { continue; }
      for (var mx = 0u; mx < 3u; mx++) {
        let px = reflectedFrom(ox, i32(p.OW), P, mx);
        if (px < i32(p.OW) + P) { sum += transposedTap(plane, kh, kw, py, px); }
      }
    }
    return sum;
  }
  var iy = oy * i32(p.stride) - i32(p.pad) + kh;
  var ix = ox * i32(p.stride) - i32(p.pad) + kw;
  if (REFLECT) {
    iy = reflect(iy, i32(p.H));
    ix = reflect(ix, i32(p.W));
  }
  return xAt(plane, iy, ix);
}

fn loadA(m: u32, k: u32) -> f32 {
  if (m >= dimM() || k >= dimK()) { return 0.0; }
  if (MODE == 0u) { return a[m * dimK() + k]; }
  if (MODE == 1u) {
    let K = p.KH * p.KW;
    return a[((k / K) * p.Cout + m) * K + k % K];
  }
  let L = p.OH * p.OW;
  return a[((k / L) * p.Cout + m) * L + k % L];
}

/** B at row k of column n, whose tap (MODE 2) or pixel (MODE 0, 1) the caller decomposed: the thread's column is the
 * same in every slab, so only the index along k is decomposed per element. */
fn loadB(k: u32, n: u32, nTap: Tap, nPixel: Pixel) -> f32 {
  if (k >= dimK() || n >= dimN()) { return 0.0; }
  if (MODE == 2u) { return unfolded(nTap, pixelOf(k)); }
  return unfolded(tapOf(k), nPixel);
}

fn kernel(lid3: vec3u, wid: vec3u, nwg: vec3u) {
  let m0 = wid.y * BM;
  let split = select(0u, wid.z, MODE == 2u);
  let n0 = (wid.x + select(wid.z, 0u, MODE == 2u) * nwg.x) * BN;
  let t = lid3.y * 16u + lid3.x;
  var acc: array<f32, 16>;
  let kEnd = min(dimK(), (split + 1u) * p.kPerSplit);
  // 256 invocations stage BK×BM values of A and BK×BN of B, four each: rows t / BM + 4e of column t % BM.
  let mm = t % BM;
  let n = n0 + mm;
  let nTap = tapOf(n);
  let nPixel = pixelOf(n);
  for (var k0 = split * p.kPerSplit; k0 < kEnd; k0 += BK) {
    for (var e = 0u; e < 4u; e++) {
      let kk = t / BM + e * (256u / BM);
      let k = select(dimK(), k0 + kk, k0 + kk < kEnd); // past the split's end: out of range, loads 0
      As[kk * BM + mm] = loadA(m0 + mm, k);
      Bs[kk * BN + mm] = loadB(k, n, nTap, nPixel);
    }
    workgroupBarrier();
    accumulateTile(lid3, &acc);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid3.y * 4u + i;
    if (m >= dimM()) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid3.x * 4u + j;
      if (n >= dimN()) { break; }
      if (MODE == 2u) {
        let at = (split * dimM() + m) * dimN() + n;
        c[at] = Y(select(acc[i * 4u + j], acc[i * 4u + j] + f32(c[at]), ACC));
      } else {
        let L = p.OH * p.OW;
        let bias = select(0.0, b[m], p.hasBias != 0u);
        let at = ((n / L) * p.Cout + m) * L + n % L;
        c[at] = Y(select(acc[i * 4u + j] + bias, acc[i * 4u + j] + bias + f32(c[at]), ACC));
      }
    }
  }
}
