// Direct gather: y[n,co,oy,ox] = Σ x[n,ci,oy·s − pad + kh, ox·s − pad + kw]·w[co,ci,kh,kw], an implicit GEMM,
// register-tiled: each invocation accumulates TM output channels × TN consecutive output pixels of one row,
// reading x and w straight from storage (on CPU-like adapters workgroup memory and barriers cost more than they
// save). Computes conv2d's forward, the transposed conv's input gradient, and with FLIP conv2d's stride-1 input
// gradient: x = its dy and w = its own weight ([Cin, Cout, KH, KW] in this shader's channel names), read rotated by
// 180° and channel-swapped (no flipped copy, no extra dispatch). With REFLECT the padding mirrors x
// (ReflectionPad2d read in place: no padded copy); a tap's index is a function of the padded coordinate alone, so
// the stride-1 shift below still holds. With FLIP and FOLD the convolution was reflect-padded and the outputs are
// its unpadded input's gradient: the rows mirroring onto an output row run the same loop (their columns are the
// tile's own), mirrored columns are added to the stored outputs (reflect_fold.wgsl). With ACC the results are added
// to y. Split-K (GPUs, where a batch-1 layer has too few tiles to fill the adapter): workgroup z / zTiles takes
// ciPerSplit of the input channels and writes its partial sums, mirrored columns included, to that slice of y
// (reduce_splits.wgsl adds the slices in order); the first slice also takes the bias. One split: ciPerSplit = Cin.
// With STAGE (a GPU candidate; square kernels, no FOLD) the workgroup stages its TM channels' weights for WS_CI input
// channels at a time in workgroup memory, [channel, tap, TM4 vec4s], so that a tap's TM weights are TM/4 broadcast
// vec4 reads instead of TM scalar loads from storage.

const TM4 = (TM + 3u) / 4u;
// Input channels per staged chunk: at most 8 KiB of weights (a 7×7 kernel's 16 channels: 2 per chunk).
const WS_CI = max(1u, min(8u, 512u / (max(KS, 1u) * max(KS, 1u) * TM4)));
var<workgroup> ws: array<vec4f, select(1u, WS_CI * KS * KS * TM4, STAGE)>;

/** x of one row at padded column ix: zero or mirrored outside the input. */
fn xAt(row: u32, ix: i32) -> f32 {
  if (REFLECT) { return f32(x[row + u32(reflect(ix, i32(p.W)))]); }
  return select(0.0, f32(x[row + u32(max(ix, 0))]), ix >= 0 && ix < i32(p.W));
}

/** Stages the weights of output channels [co0, co0 + TM) × input channels [cb, ce) (zero past either end). */
fn stageWeights(lid: u32, co0: u32, cb: u32, ce: u32) {
  let K = KS * KS;
  for (var e = lid; e < WS_CI * K * TM4; e += WG) {
    let q = e % TM4;
    let tap = (e / TM4) % K;
    let ci = cb + e / (TM4 * K);
    var v = vec4f(0.0);
    for (var r = 0u; r < 4u; r++) {
      let co = co0 + q * 4u + r;
      if (ci < ce && q * 4u + r < TM && co < p.Cout) {
        v[r] = w[select(co * p.Cin * K + ci * K + tap, (ci * p.Cout + co) * K + K - 1u - tap, FLIP)];
      }
    }
    ws[e] = v;
  }
}

fn kernel(gid: vec3u, lid: u32, wid: vec3u, nwg: vec3u) {
  let split = wid.z / p.zTiles;
  let tiles = p.N * p.OH * p.tilesX;
  let co0 = wid.y * TM;
  if (co0 >= p.Cout) { return; }
  // Invocations past the last tile skip the sums and stores but not STAGE's barriers (a return would make them
  // non-uniform); their indices stay in bounds.
  let tile0 = gid.x + (wid.z % p.zTiles) * nwg.x * WG;
  let inRange = tile0 < tiles;
  let tile = min(tile0, tiles - 1u);
  // The stride S is a compile-time constant, and so is a square kernel's size KS (0: not square, read at run time):
  // loops of known trip counts unroll.
  let KH = select(p.KH, KS, KS != 0u);
  let KW = select(p.KW, KS, KS != 0u);
  // Tiles run along rows, also with FOLD: numbered down columns, every 32-lane warp of a column held a mirrored row,
  // which runs the loop twice (the H200's folded gradients took twice the forward's time).
  let ox0 = (tile % p.tilesX) * TN;
  let oy = (tile / p.tilesX) % p.OH;
  let n = tile / (p.tilesX * p.OH);
  let K = KH * KW;
  let foldPad = KH - 1u - p.pad; // FLIP's pad is KH − 1 − the convolution's
  var ix0: array<i32, TN>;
  for (var j = 0u; j < TN; j++) { ix0[j] = i32((ox0 + j) * S) - i32(p.pad); }
  var wrow: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let co = min(co0 + i, p.Cout - 1u);
    wrow[i] = select(co * p.Cin * K, co * K + K - 1u, FLIP);
  }
  let ci0 = split * p.ciPerSplit;
  let ci1 = min(p.Cin, ci0 + p.ciPerSplit);
  var acc: array<f32, TM * TN>;
  // Control flow stays uniform around STAGE's barriers: the mirrored rows (FOLD, never with STAGE) skip only
  // after them.
  let chunk = select(ci1 - ci0, WS_CI, STAGE);
  for (var my = 0u; my < select(1u, 3u, FOLD); my++) {
    var py = i32(oy * S);
    if (my > 0u) { py = reflectedFrom(i32(oy), i32(p.OH), i32(foldPad), my); }
    for (var cb = ci0; cb < ci1; cb += chunk) {
      let ce = min(ci1, cb + chunk);
      if (STAGE) {
        workgroupBarrier();
        stageWeights(lid, co0, cb, ce);
        workgroupBarrier();
      }
      if (inRange && (my == 0u || py < i32(p.OH + foldPad))) {
        let iy0 = py - i32(p.pad);
        for (var ci = cb; ci < ce; ci++) {
          let plane = (n * p.Cin + ci) * p.H * p.W;
          let wci = select(ci * K, ci * p.Cout * K, FLIP);
          for (var kh = 0u; kh < KH; kh++) {
            var iy = iy0 + i32(kh);
            if (REFLECT) {
              iy = reflect(iy, i32(p.H));
            } else if (iy < 0 || iy >= i32(p.H)) {
              continue;
            }
            let row = plane + u32(iy) * p.W;
            var xv: array<f32, TN>;
            for (var kw = 0u; kw < KW; kw++) {
              if (kw == 0u || S != 1u) {
                for (var j = 0u; j < TN; j++) { xv[j] = xAt(row, ix0[j] + i32(kw)); }
              } else {
                // Stride 1: the next tap's inputs are these shifted by one, plus one new load.
                for (var j = 0u; j + 1u < TN; j++) { xv[j] = xv[j + 1u]; }
                xv[TN - 1u] = xAt(row, ix0[TN - 1u] + i32(kw));
              }
              let tap = kh * KW + kw;
              for (var i = 0u; i < TM; i++) {
                var wv: f32;
                if (STAGE) {
                  wv = ws[((ci - cb) * K + tap) * TM4 + i / 4u][i % 4u];
                } else {
                  wv = w[select(wrow[i] + wci + tap, wrow[i] + wci - tap, FLIP)];
                }
                for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(wv, xv[j], acc[i * TN + j]); }
              }
            }
          }
        }
      }
    }
  }
  if (!inRange) { return; }
  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    let bias = select(0.0, b[co], p.hasBias != 0u && split == 0u);
    let out = (((split * p.N + n) * p.Cout + co) * p.OH + oy) * p.OW;
    for (var j = 0u; j < TN; j++) {
      let ox = ox0 + j;
      if (ox >= p.OW) { continue; }
      let v = acc[i * TN + j] + bias;
      y[out + ox] = Y(select(v, v + f32(y[out + ox]), ACC));
    }
  }
  if (FOLD) {
    for (var j = 0u; j < TN; j++) {
      if (ox0 + j < p.OW && hasMirrors(ox0 + j, p.OW, foldPad)) { addMirrors(n, co0, oy, ox0 + j, foldPad, false, split, ci0, ci1); }
    }
  }
}
