// mapWindow (windows of a map stored as row bands) against a CPU oracle: reflection and zero padding beyond every
// border, nearest ×2 upsampling, normalisation + ReLU on the way, windows spanning three bands, writing into a
// column range of a destination; and the checks on its arguments.
import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { hashUniform } from '../../src/graph/random.js';
import { Tensor } from '../../src/graph/tensor.js';
import { mapWindow, type WindowSpec } from '../../src/kernels/map_window.js';

useGpu();

const [C, H, W] = [2, 9, 7];
const map = hashUniform(C * H * W, 3, 2);
const cuts = [0, 3, 5, 9];
const bands = () => cuts.slice(0, -1).map((start, k) => {
  const rows = cuts[k + 1] - start;
  const data = new Float32Array(C * rows * W);
  for (let c = 0; c < C; c++) data.set(map.subarray((c * H + start) * W, (c * H + start + rows) * W), c * rows * W);
  return { tensor: Tensor.fromArray(data, [1, C, rows, W]), start };
});
const stats = [0.25, -0.5, 2, 0.5];

function oracle(s: Omit<WindowSpec, 'bands' | 'height' | 'stats'> & { stats?: number[] }): Float32Array {
  const up = s.up ?? 1;
  const [VH, VW] = [H * up, W * up];
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const out = new Float32Array(C * s.h * s.w);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < s.h; r++) {
      for (let j = 0; j < s.w; j++) {
        let [vy, vx] = [s.y0 + r, s.x0 + j];
        if (s.pad === 'reflect') [vy, vx] = [reflect(vy, VH), reflect(vx, VW)];
        if (vy < 0 || vy >= VH || vx < 0 || vx >= VW) continue;
        let v = map[(c * H + Math.floor(vy / up)) * W + Math.floor(vx / up)];
        if (s.stats) v = (v - s.stats[c]) * s.stats[C + c];
        if (s.relu) v = Math.max(v, 0);
        out[(c * s.h + r) * s.w + j] = v;
      }
    }
  }
  return out;
}

describe('mapWindow against a CPU oracle', () => {
  const cases: [string, Omit<WindowSpec, 'bands' | 'height' | 'stats'> & { stats?: number[] }, number, number][] = [
    ['reflection beyond the top-left corner, first two bands', { y0: -3, x0: -2, h: 7, w: 6, pad: 'reflect' }, 0, 2],
    ['zeros beyond the bottom-right corner, last two bands', { y0: 4, x0: 3, h: 6, w: 6, pad: 'zero' }, 1, 3],
    ['a window across all three bands, normalised + ReLU', { y0: 1, x0: 0, h: 7, w: 7, pad: 'zero', stats, relu: true }, 0, 3],
    ['×2 upsampled, reflected at both ends of both axes', { y0: -1, x0: -1, h: 20, w: 16, pad: 'reflect', up: 2 }, 0, 3],
  ];
  for (const [name, spec, from, to] of cases) {
    it(name, async () => {
      const bs = bands();
      const st = spec.stats ? Tensor.fromArray(spec.stats, [2 * C]) : undefined;
      const y = mapWindow({ ...spec, bands: bs.slice(from, to), height: H, stats: st });
      expect(Array.from(await y.data())).toEqual(Array.from(oracle(spec)));
      for (const t of [y, st, ...bs.map((b) => b.tensor)]) t?.dispose();
    });
  }

  it('writes into a column range of a destination, leaving the rest', async () => {
    const bs = bands();
    const dst = Tensor.fill([1, C, 4, 10], 9);
    mapWindow({ bands: bs.slice(1, 3), height: H, y0: 3, x0: 1, h: 4, w: 5, pad: 'zero', into: { tensor: dst, dx0: 3 } });
    const got = await dst.data();
    const win = oracle({ y0: 3, x0: 1, h: 4, w: 5, pad: 'zero' });
    for (let c = 0; c < C; c++) {
      for (let r = 0; r < 4; r++) {
        for (let j = 0; j < 10; j++) expect(got[(c * 4 + r) * 10 + j]).toBe(j >= 3 && j < 8 ? win[(c * 4 + r) * 5 + j - 3] : 9);
      }
    }
    for (const t of [dst, ...bs.map((b) => b.tensor)]) t.dispose();
  });

  it('rejects reads outside the bands given, bands that do not follow each other, and a destination too small', () => {
    const bs = bands();
    expect(() => mapWindow({ bands: bs.slice(1, 2), height: H, y0: 2, x0: 0, h: 2, w: 2, pad: 'zero' })).toThrow(/reads row 2 outside bands \[3, 5\)/);
    expect(() => mapWindow({ bands: [bs[0], bs[2]], height: H, y0: 0, x0: 0, h: 2, w: 2, pad: 'zero' })).toThrow(/bands must be consecutive/);
    const dst = Tensor.empty([1, C, 2, 4]);
    expect(() => mapWindow({ bands: bs, height: H, y0: 0, x0: 0, h: 2, w: 3, pad: 'zero', into: { tensor: dst, dx0: 2 } })).toThrow(/does not fit/);
    for (const t of [dst, ...bs.map((b) => b.tensor)]) t.dispose();
  });
});
