// The index space of Winograd's transformed operands (conv_winograd*.wgsl): element i = (channel, t), t = (n·TH +
// ty)·TW + tx one output tile (2×2 or 4×4; TH × TW tiles per batch item), P = N·TH·TW tiles in all. A forward too
// large for one binding runs in bands of TH tile rows from row ty0: ty counts from the map's first row.
struct WinogradTile { channel: u32, t: u32, n: u32, ty: u32, tx: u32 }

fn tileCount() -> u32 {
  return p.N * p.TH * p.TW;
}

fn winogradTile(i: u32, ty0: u32) -> WinogradTile {
  let t = i % tileCount();
  return WinogradTile(i / tileCount(), t, t / (p.TW * p.TH), ty0 + (t / p.TW) % p.TH, t % p.TW);
}

/** Index of plane xi, channel c (of `channels`), tile t in a [16][channels][P] operand. */
fn operandAt(xi: u32, c: u32, channels: u32, t: u32) -> u32 {
  return (xi * channels + c) * tileCount() + t;
}
