// The 'tiles' strategy of the three convolution GEMMs (src/kernels/conv_gemm.ts), the classic workgroup-memory
// tiling for GPUs: a 16×16 workgroup computes a BM×BN block of C[M, Ncol] = Σ_k A(m, k)·B(k, n), staging BK-deep
// slices of A and B in workgroup memory (workgroup_tile.wgsl); each invocation accumulates RM×RN outputs. The
// operands are read through the convolution's index maps (implicit GEMM):
//   MODE 0  directGather   C = y[n, co, oy, ox]     A = w[co, (ci, kh, kw)]  B = x at (oy·s − pad + kh, …)
//   MODE 1  phaseGather    C = y[n, co, oy, ox]     A = w[ci, co, kh, kw]    B = x at ((oy + pad − kh)/s, …), 0 off-phase
//   MODE 2  weightGrad     C = dw[co, (ci, kh, kw)] A = dy[n, co, oy, ox]    B = x at (oy·s − pad + kh, …)
// With REFLECT the padding mirrors x instead of reading zeros (modes 0 and 2), or in mode 1 (a reflect-padded conv's
// input gradient) B sums the padded positions that mirror onto each output (ReflectionPad2d's backward, folded in);
// with ACC (no split) the sums are added to c. Every output's sum runs over k in increasing order.
// Split-K: workgroup z = split·zTiles + (column blocks folded past the per-dimension limit); split z sums k in
// [z·kPerSplit, (z+1)·kPerSplit) into slice z of c ([splits, M, Ncol] for MODE 2, [splits, N, Cout, OH, OW] for the
// gathers, bias in slice 0), which reduce_splits.wgsl adds. For the gathers k is ci-major, so a split is a range of
// input channels.
// PHASED (mode 1 at stride s > 1 without reflection): the outputs fall into s² phases (oy mod s, ox mod s), each
// summing only its own taps (kh ≡ oy + pad mod s, likewise kw; conv_phase_gather.wgsl). A workgroup computes one
// phase's GEMM, K = Cin·tapsY·tapsX instead of Cin·KH·KW whose other products are 0 (3/4 of them at k3 s2); the
// phase is folded into workgroup z: zTile = fold·s² + phase.

/** The kernel's size and stride: compile-time constants KS and S where they are not 0 (conv_gemm.ts's tileShape: the
 * 3×3 layers), so that the tap decomposition of every fetched value divides by constants (multiplies on GPUs). */
fn kernelRows() -> u32 { return select(p.KH, KS, KS != 0u); }
fn kernelCols() -> u32 { return select(p.KW, KS, KS != 0u); }
fn strideOf() -> u32 { return select(p.stride, S, S != 0u); }

/** A is stored k-contiguous in the forward (w[co, (ci, kh, kw)]) and the weight gradient (dy rows), not in mode 1. */
const A_K_FAST = MODE != 1u;

/** PHASED: the workgroup's output phase (ry, rx), its first taps (kh0, kw0) and tap counts, and its output grid. */
struct Phase { ry: u32, rx: u32, kh0: u32, kw0: u32, tapsY: u32, tapsX: u32, rows: u32, cols: u32 }
var<private> phase: Phase;

fn phaseOf(i: u32) -> Phase {
  let s = strideOf();
  let ry = i / s;
  let rx = i % s;
  let kh0 = (ry + p.pad) % s;
  let kw0 = (rx + p.pad) % s;
  // Ceiling divisions, 0 where the kernel or the output is smaller than the phase's offset.
  let tapsY = select(0u, (kernelRows() - kh0 + s - 1u) / s, kh0 < kernelRows());
  let tapsX = select(0u, (kernelCols() - kw0 + s - 1u) / s, kw0 < kernelCols());
  let rows = select(0u, (p.OH - ry + s - 1u) / s, ry < p.OH);
  let cols = select(0u, (p.OW - rx + s - 1u) / s, rx < p.OW);
  return Phase(ry, rx, kh0, kw0, tapsY, tapsX, rows, cols);
}

fn dimM() -> u32 { return p.Cout; }
fn dimN() -> u32 {
  if (MODE == 2u) { return p.Cin * kernelRows() * kernelCols(); }
  if (PHASED) { return p.N * phase.rows * phase.cols; }
  return p.N * p.OH * p.OW;
}
/** The GEMM's depth, of phase ph when PHASED: the kernel's loop bound takes ph from a let, since a private
 * variable's value does not count as uniform. */
fn depthK(ph: Phase) -> u32 {
  if (MODE == 2u) { return p.N * p.OH * p.OW; }
  if (PHASED) { return p.Cin * ph.tapsY * ph.tapsX; }
  return p.Cin * kernelRows() * kernelCols();
}
fn dimK() -> u32 { return depthK(phase); }

/** x at row iy, column ix of plane (n, ci), 0 outside. */
fn xAt(plane: u32, iy: i32, ix: i32) -> f32 {
  if (iy < 0 || ix < 0 || iy >= i32(p.H) || ix >= i32(p.W)) { return 0.0; }
  return f32(x[(plane * p.H + u32(iy)) * p.W + u32(ix)]);
}

/** Mode 1's x at tap (kh, kw) for output (oy, ox), 0 off-phase. */
fn transposedTap(plane: u32, kh: i32, kw: i32, oy: i32, ox: i32) -> f32 {
  let s = i32(strideOf());
  let ny = oy + i32(p.pad) - kh;
  let nx = ox + i32(p.pad) - kw;
  if (ny < 0 || nx < 0 || ny % s != 0 || nx % s != 0) { return 0.0; }
  return xAt(plane, ny / s, nx / s);
}

/** A tap q = (ci, kh, kw) of the unfolded input, and an output pixel o = (n, oy, ox). */
struct Tap { ci: u32, kh: i32, kw: i32 }
struct Pixel { n: u32, oy: i32, ox: i32 }

fn tapOf(q: u32) -> Tap {
  if (PHASED) {
    let T = phase.tapsY * phase.tapsX;
    let r = q % T;
    return Tap(q / T, i32(phase.kh0 + strideOf() * (r / phase.tapsX)), i32(phase.kw0 + strideOf() * (r % phase.tapsX)));
  }
  let K = kernelRows() * kernelCols();
  return Tap(q / K, i32((q % K) / kernelCols()), i32(q % kernelCols()));
}

fn pixelOf(o: u32) -> Pixel {
  if (PHASED) {
    let qy = (o / phase.cols) % phase.rows;
    let qx = o % phase.cols;
    return Pixel(o / (phase.cols * phase.rows), i32(phase.ry + strideOf() * qy), i32(phase.rx + strideOf() * qx));
  }
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
  var iy = oy * i32(strideOf()) - i32(p.pad) + kh;
  var ix = ox * i32(strideOf()) - i32(p.pad) + kw;
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
    let q = tapOf(k);
    return a[((q.ci * p.Cout + m) * kernelRows() + u32(q.kh)) * kernelCols() + u32(q.kw)];
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
  let split = wid.z / p.zTiles;
  let zTile = wid.z % p.zTiles;
  let phases = select(1u, strideOf() * strideOf(), PHASED);
  let ph = phaseOf(zTile % phases);
  phase = ph;
  // A split's share of k: kPerSplit = its input channels × KH·KW, of which a phase has tapsY·tapsX taps each.
  let kPerSplit = select(p.kPerSplit, p.kPerSplit / (kernelRows() * kernelCols()) * ph.tapsY * ph.tapsX, PHASED);
  let n0 = (wid.x + zTile / phases * nwg.x) * BN;
  let t = lid3.y * 16u + lid3.x;
  let kStart = split * kPerSplit;
  let kEnd = min(depthK(ph), kStart + kPerSplit);
  // The invocation stages values t + 256·e of A's slice (slotA: along k where A is k-contiguous, the weights of the
  // forward and dy rows of the weight gradient) and column t % BN of B's, rows t / BN + e·256 / BN: its column of B
  // is the same in every slice, so only the index along k is decomposed per element.
  let nb = t % BN;
  let nTap = tapOf(n0 + nb);
  let nPixel = pixelOf(n0 + nb);
  // Each slice's values are fetched into registers while the previous slice is being multiplied.
  var ra: array<f32, LOADS_A>;
  var rb: array<f32, LOADS_B>;
  var acc: array<vec4f, RM * RN / 4u>;
  var k0 = kStart;
  if (k0 < kEnd) { fetchSlice(k0, kEnd, t, m0, n0 + nb, nTap, nPixel, &ra, &rb); }
  while (k0 < kEnd) {
    stageSlice(t, A_K_FAST, &ra, &rb);
    workgroupBarrier();
    k0 += BK;
    if (k0 < kEnd) { fetchSlice(k0, kEnd, t, m0, n0 + nb, nTap, nPixel, &ra, &rb); }
    accumulateTile(lid3, &acc);
    workgroupBarrier();
  }
  let L = p.OH * p.OW;
  for (var r = 0u; r < RM; r++) {
    let m = m0 + tileRow(lid3.y, r);
    if (m >= dimM()) { continue; }
    for (var col = 0u; col < RN; col++) {
      let n = n0 + tileCol(lid3.x, col);
      if (n >= dimN()) { continue; }
      let sum = acc[r * (RN / 4u) + col / 4u][col % 4u];
      if (MODE == 2u) {
        let at = (split * dimM() + m) * dimN() + n;
        c[at] = Y(select(sum, sum + f32(c[at]), ACC));
      } else {
        let bias = select(0.0, b[m], p.hasBias != 0u && split == 0u);
        let o = pixelOf(n);
        let at = ((split * p.N + o.n) * p.Cout + m) * L + u32(o.oy) * p.OW + u32(o.ox);
        c[at] = Y(select(sum + bias, sum + bias + f32(c[at]), ACC));
      }
    }
  }
}

/** The invocation's values of A's and B's slices from row k0 (rows at or past kEnd, the split's end, read 0). */
fn fetchSlice(k0: u32, kEnd: u32, t: u32, m0: u32, n: u32, nTap: Tap, nPixel: Pixel, ra: ptr<function, array<f32, LOADS_A>>, rb: ptr<function, array<f32, LOADS_B>>) {
  for (var e = 0u; e < LOADS_A; e++) {
    let at = slotA(t + e * 256u, A_K_FAST);
    let k = k0 + at.x;
    (*ra)[e] = loadA(m0 + at.y, select(dimK(), k, k < kEnd));
  }
  for (var e = 0u; e < LOADS_B; e++) {
    let k = k0 + t / BN + e * (256u / BN);
    (*rb)[e] = loadB(select(dimK(), k, k < kEnd), n, nTap, nPixel);
  }
}
