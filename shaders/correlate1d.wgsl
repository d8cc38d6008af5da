// 1-D correlation along one axis of every plane, zero padding, output the input's size (odd K, centred tap
// (K − 1) / 2): y[c] = Σ_t taps[t]·x[c + t − (K − 1) / 2], each line holding p.len elements p.step apart. FLIP
// reads the taps reversed: the input gradient of the same correlation.
// Each invocation computes four consecutive outputs of a line, sliding a window of four inputs along the taps (one
// load per four multiply-adds). Neighbouring invocations take neighbouring lines when the axis is strided (step > 1)
// and neighbouring blocks of the line otherwise, so that their loads are adjacent.

fn load(base: u32, j: i32) -> f32 {
  let inside = j >= 0 && j < i32(p.len);
  return select(0.0, x[base + u32(select(0, j, inside)) * p.step], inside);
}

fn kernel(i: u32) {
  let inner = i % p.step;
  let rest = i / p.step;
  let c0 = (rest % p.blocks) * 4u;
  let base = (rest / p.blocks) * p.len * p.step + inner;
  let start = i32(c0) - i32(p.K - 1u) / 2;
  var acc = vec4f(0.0);
  var window = vec4f(load(base, start), load(base, start + 1), load(base, start + 2), load(base, start + 3));
  for (var t = 0u; t < p.K; t++) {
    acc += taps[select(t, p.K - 1u - t, FLIP)] * window;
    window = vec4f(window.yzw, load(base, start + i32(t) + 4));
  }
  for (var k = 0u; k < 4u; k++) {
    if (c0 + k < p.len) {
      y[base + (c0 + k) * p.step] = acc[k];
    }
  }
}
