// channelMoments and combineMoments against f64 statistics of the whole map: per-band (mean, M2) combined across
// uneven bands equal the whole map's mean and 1/sqrt(var + eps); a large common offset does not cancel; bands stored
// as f16 give the statistics of their (rounded) values, summed in f32.
import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { f16Round, f16Tensor, skipWithoutF16 } from '../helpers/f16.js';
import { hashUniform } from '../../src/graph/random.js';
import { Tensor } from '../../src/graph/tensor.js';
import { channelMoments, combineMoments } from '../../src/kernels/moments.js';

useGpu();

/** The map (C × H × W, H = the last cut) split into row bands at the cuts, each stored by `store`, and their
 *  per-band moments (channelMoments into one [bands, C, 2] tensor). */
function bandMoments(map: Float32Array, C: number, W: number, cuts: number[], store: (data: Float32Array, shape: number[]) => Tensor) {
  const H = cuts[cuts.length - 1];
  const m = Tensor.zeros([cuts.length - 1, C, 2]);
  const counts: number[] = [];
  const bands: Tensor[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const rows = cuts[k + 1] - cuts[k];
    const data = new Float32Array(C * rows * W);
    for (let c = 0; c < C; c++) data.set(map.subarray((c * H + cuts[k]) * W, (c * H + cuts[k + 1]) * W), c * rows * W);
    bands.push(store(data, [1, C, rows, W]));
    channelMoments(bands[k], m, k);
    counts.push(rows * W);
  }
  return { m, counts, bands };
}

/** Combined statistics `got` ([mean[0..C), rstd[0..C)]) against f64 ones of each plane of the map, its values read
 *  through `value` (f16 bands: rounded): the mean is stored in f32, so within its rounding (half an ulp, 2^-24
 *  relative) plus 1e-6 of the spread; rstd within 1e-5. */
function expectPlaneStatistics(got: ArrayLike<number>, map: Float32Array, C: number, plane: number, value = (v: number) => v): void {
  for (let c = 0; c < C; c++) {
    const xs = Array.from(map.subarray(c * plane, (c + 1) * plane), value);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(got[c] - mean)).toBeLessThanOrEqual(2 ** -24 * Math.abs(mean) + 1e-6 * Math.sqrt(v));
    expect(Math.abs(got[C + c] * Math.sqrt(v + 1e-5) - 1)).toBeLessThanOrEqual(1e-5);
  }
}

describe('channelMoments + combineMoments', () => {
  it('equal the whole map\'s instance-norm statistics, bands of 5, 1 and 11 rows, offset 100', async () => {
    const [C, W, cuts] = [3, 37, [0, 5, 6, 17]];
    const H = cuts[cuts.length - 1];
    const map = hashUniform(C * H * W, 8, 1).map((v, i) => v + 100 + Math.floor(i / (H * W)));
    const { m, counts, bands } = bandMoments(map, C, W, cuts, (data, shape) => Tensor.fromArray(data, shape));
    const got = combineMoments(await m.data(), counts, 1e-5);
    expectPlaneStatistics(got, map, C, H * W);
    for (const t of [m, ...bands]) t.dispose();
  });

  it('of f16 bands: the statistics of the f16 values, within the same f32 bounds', async (ctx) => {
    skipWithoutF16(ctx);
    const [C, W, cuts] = [2, 30, [0, 7, 8, 20]];
    const H = cuts[cuts.length - 1];
    const map = hashUniform(C * H * W, 4, 3).map((v, i) => v + 10 * Math.floor(i / (H * W)));
    const { m, counts, bands } = bandMoments(map, C, W, cuts, f16Tensor);
    const got = combineMoments(await m.data(), counts, 1e-5);
    expectPlaneStatistics(got, map, C, H * W, f16Round);
    for (const t of [m, ...bands]) t.dispose();
  });

  it('of a band of 512² values a channel (one pass, ~1000 values an invocation), its first value 50 spreads out', async () => {
    const [C, W, cuts] = [2, 512, [0, 300, 512]];
    const H = cuts[cuts.length - 1];
    const map = hashUniform(C * H * W, 6, 1).map((v, i) => v + 100 * (1 + Math.floor(i / (H * W))));
    // The shift (each plane's first value) far from the mean: the centred sums are then large against the spread.
    for (let c = 0; c < C; c++) map[c * H * W] += 50;
    const { m, counts, bands } = bandMoments(map, C, W, cuts, (data, shape) => Tensor.fromArray(data, shape));
    const got = combineMoments(await m.data(), counts, 1e-5);
    expectPlaneStatistics(got, map, C, H * W);
    for (const t of [m, ...bands]) t.dispose();
  });

  it('rejects a slot outside the moments tensor and a channel count that differs', () => {
    const x = Tensor.zeros([1, 2, 3, 3]);
    const m = Tensor.zeros([2, 2, 2]);
    expect(() => channelMoments(x, m, 2)).toThrow(/slot 2 do not fit/);
    expect(() => channelMoments(Tensor.zeros([1, 3, 3, 3]), m, 0)).toThrow(/do not fit/);
    x.dispose();
    m.dispose();
  });
});
