// Convolution weight gradient dw[co, ci, kh, kw] = Σ_{n,oy,ox} dy[n,co,oy,ox]·x[n,ci,oy·s−pad+kh, ox·s−pad+kw]:
// a GEMM whose reduction runs over every output pixel. Each invocation owns TM output channels × TQ flattened
// (ci, kh, kw) taps. Also computes transposed conv's weight gradient (dy = its input, x = its output gradient).
// With hasBias the first tap tile also sums the dy values it loads anyway: db[co] = Σ dy (no separate pass).
// Split-K: workgroup z takes rowsPerSplit of the N·OH output rows and writes its partial sums to slice z of dw and
// db (reduce_splits.wgsl adds the slices), so layers with few channels still fill the adapter. With REFLECT the
// padding mirrors x (conv2d's reflect mode) instead of reading zeros. With ACC (no split) the sums are added to dw and
// db, the gradients from earlier uses of the weight. With STAGE (a GPU candidate) the workgroup, whose invocations
// all read the same dy values, stages its TM channels' dy row in chunks of OXC pixels in workgroup memory: broadcast
// vec4 reads of 4 pixels instead of a scalar storage load per channel and pixel.

const OXC = 64u;
var<workgroup> dys: array<vec4f, select(1u, TM * OXC / 4u, STAGE)>;

fn kernel(gid: vec3u, lid: u32, wid: vec3u) {
  let K = p.KH * p.KW;
  let Q = p.Cin * K;
  let q0 = gid.x * TQ;
  let co0 = wid.y * TM;
  if (co0 >= p.Cout) { return; }
  // Invocations past the last tap skip the sums and stores but not STAGE's barriers (their indices stay in bounds).
  let inRange = q0 < Q;
  var ci: array<u32, TQ>;
  var kh: array<i32, TQ>;
  var kw: array<i32, TQ>;
  for (var j = 0u; j < TQ; j++) {
    let q = min(q0 + j, Q - 1u);
    ci[j] = q / K;
    kh[j] = i32((q % K) / p.KW);
    kw[j] = i32(q % p.KW);
  }
  var co: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { co[i] = min(co0 + i, p.Cout - 1u); }
  var acc: array<f32, TM * TQ>;
  var bsum: array<f32, TM>;
  let sumBias = p.hasBias != 0u && wid.x == 0u;
  let s = i32(p.stride);
  let r0 = wid.z * p.rowsPerSplit;
  let r1 = min(r0 + p.rowsPerSplit, p.N * p.OH);
  for (var rr = r0; rr < r1; rr++) {
    let n = rr / p.OH;
    let oy = rr % p.OH;
    var rowOk: array<bool, TQ>;
    var xrow: array<u32, TQ>;
    for (var j = 0u; j < TQ; j++) {
      var iy = i32(oy) * s - i32(p.pad) + kh[j];
      if (REFLECT) { iy = reflect(iy, i32(p.H)); }
      rowOk[j] = iy >= 0 && iy < i32(p.H);
      xrow[j] = ((n * p.Cin + ci[j]) * p.H + u32(max(iy, 0))) * p.W;
    }
    var dyrow: array<u32, TM>;
    for (var i = 0u; i < TM; i++) { dyrow[i] = ((n * p.Cout + co[i]) * p.OH + oy) * p.OW; }
    // Rows whose every kh lies inside the input: there, pixels away from the side edges load without bounds checks
    // (a uniform branch; the checks are several vector operations per load).
    let insideRows = i32(oy) * s - i32(p.pad) >= 0 && i32(oy) * s - i32(p.pad) + i32(p.KH) <= i32(p.H);
    let chunk = select(p.OW, OXC, STAGE);
    for (var c0 = 0u; c0 < p.OW; c0 += chunk) {
      if (STAGE) {
        workgroupBarrier();
        for (var e = lid; e < TM * OXC / 4u; e += WG) {
          let i = e / (OXC / 4u);
          let px = c0 + (e % (OXC / 4u)) * 4u;
          var v = vec4f(0.0);
          for (var r = 0u; r < 4u; r++) {
            if (px + r < p.OW) { v[r] = dy[dyrow[i] + px + r]; }
          }
          dys[e] = v;
        }
        workgroupBarrier();
      }
      if (inRange) {
        for (var ox = c0; ox < min(p.OW, c0 + chunk); ox++) {
          let ix0 = i32(ox) * s - i32(p.pad);
          var xv: array<f32, TQ>;
          if (insideRows && ix0 >= 0 && ix0 + i32(p.KW) <= i32(p.W)) {
            for (var j = 0u; j < TQ; j++) { xv[j] = f32(x[xrow[j] + u32(ix0 + kw[j])]); }
          } else {
            for (var j = 0u; j < TQ; j++) {
              var ix = ix0 + kw[j];
              if (REFLECT) { ix = reflect(ix, i32(p.W)); }
              xv[j] = select(0.0, f32(x[xrow[j] + u32(max(ix, 0))]), rowOk[j] && ix >= 0 && ix < i32(p.W));
            }
          }
          for (var i = 0u; i < TM; i++) {
            var g: f32;
            if (STAGE) {
              g = dys[i * (OXC / 4u) + (ox - c0) / 4u][(ox - c0) % 4u];
            } else {
              g = dy[dyrow[i] + ox];
            }
            for (var j = 0u; j < TQ; j++) { acc[i * TQ + j] = fma(g, xv[j], acc[i * TQ + j]); }
            if (sumBias) { bsum[i] += g; }
          }
        }
      }
    }
  }
  if (!inRange) { return; }
  for (var i = 0u; i < TM; i++) {
    if (co0 + i >= p.Cout) { break; }
    for (var j = 0u; j < TQ; j++) {
      let at = (wid.z * p.Cout + co0 + i) * Q + q0 + j;
      if (q0 + j < Q) { dw[at] = select(acc[i * TQ + j], acc[i * TQ + j] + dw[at], ACC); }
    }
    let bat = wid.z * p.Cout + co0 + i;
    if (sumBias && q0 == 0u) { db[bat] = select(bsum[i], bsum[i] + db[bat], ACC); }
  }
}
