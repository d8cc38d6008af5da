// Per-tile sums of the classical focus measures of one H×W plane: Σ I, Σ L, Σ L², Σ (Gx² + Gy²), Σ B², where
// L is the 4-neighbour Laplacian, G the Sobel gradient (both with edge pixels repeated, scipy mode 'nearest') and
// B = I(x+2, y) − I(x, y) Brenner's difference (0 in the last two columns). One workgroup per tile; pixels near a
// tile's edge read their neighbours in the next tile, so the tiles' sums add up to the whole image's.

fn px(x: i32, y: i32) -> f32 {
  let cx = clamp(x, 0, i32(p.W) - 1);
  let cy = clamp(y, 0, i32(p.H) - 1);
  return plane[u32(cy) * p.W + u32(cx)];
}

fn kernel(lid: u32, wid: vec3u, nwg: vec3u) {
  let t = wid.x + wid.y * nwg.x;
  if (t >= p.tiles) { return; }
  let x0 = (t % p.tilesX) * p.tile;
  let y0 = (t / p.tilesX) * p.tile;
  let tw = min(p.tile, p.W - x0);
  let th = min(p.tile, p.H - y0);
  var s = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
  for (var k = lid; k < tw * th; k += WG) {
    let x = i32(x0 + k % tw);
    let y = i32(y0 + k / tw);
    let c = px(x, y);
    let l = px(x - 1, y) + px(x + 1, y) + px(x, y - 1) + px(x, y + 1) - 4.0 * c;
    let gx = px(x + 1, y - 1) + 2.0 * px(x + 1, y) + px(x + 1, y + 1) - px(x - 1, y - 1) - 2.0 * px(x - 1, y) - px(x - 1, y + 1);
    let gy = px(x - 1, y + 1) + 2.0 * px(x, y + 1) + px(x + 1, y + 1) - px(x - 1, y - 1) - 2.0 * px(x, y - 1) - px(x + 1, y - 1);
    var b = 0.0;
    if (u32(x) + 2u < p.W) { b = px(x + 2, y) - c; }
    s[0] += c;
    s[1] += l;
    s[2] += l * l;
    s[3] += gx * gx + gy * gy;
    s[4] += b * b;
  }
  for (var m = 0u; m < 5u; m++) {
    let total = workgroupSum(lid, s[m]);
    if (lid == 0u) { sums[t * 5u + m] = total; }
  }
}
