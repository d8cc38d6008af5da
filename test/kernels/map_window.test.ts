// mapWindow (windows of a map stored as row bands) against a CPU oracle: reflection and zero padding beyond every
// border, nearest ×2 upsampling, normalisation + ReLU on the way, windows spanning three bands, writing into a
// column range of a destination; and the checks on its arguments. f16 storage: tiles written into f16 bands are
// rounded as binary16 (against an exact f16 oracle, test/helpers/f16.ts), and windows of f16 bands read back into f32
// are exact (every f16 is an f32), normalised in f32.
import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { f16Bits, fromF16Bits, f16Round, f16Ulp, f16Tensor, f16Data, skipWithoutF16 } from '../helpers/f16.js';
import { hashUniform } from '../../src/graph/random.js';
import { Tensor } from '../../src/graph/tensor.js';
import { mapWindow, type WindowSpec } from '../../src/kernels/map_window.js';

useGpu();

const [C, H, W] = [2, 9, 7];
const map = hashUniform(C * H * W, 3, 2);
const original = map.slice();
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

  it('adds into a column range of a destination (add: a residual in place), leaving the rest', async () => {
    const bs = bands();
    const base = hashUniform(C * 4 * 10, 4, 1);
    const dst = Tensor.fromArray(base, [1, C, 4, 10]);
    const st = Tensor.fromArray(stats, [2 * C]);
    mapWindow({ bands: bs.slice(1, 3), height: H, y0: 3, x0: 1, h: 4, w: 5, pad: 'zero', stats: st, into: { tensor: dst, dx0: 3, add: true } });
    const got = await dst.data();
    const win = oracle({ y0: 3, x0: 1, h: 4, w: 5, pad: 'zero', stats });
    for (let c = 0; c < C; c++) {
      for (let r = 0; r < 4; r++) {
        for (let j = 0; j < 10; j++) {
          const i = (c * 4 + r) * 10 + j;
          expect(got[i]).toBe(j >= 3 && j < 8 ? Math.fround(base[i] + win[(c * 4 + r) * 5 + j - 3]) : base[i]);
        }
      }
    }
    for (const t of [dst, st, ...bs.map((b) => b.tensor)]) t.dispose();
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

describe('mapWindow with f16 bands', () => {
  it('the f16 oracle: known values, ties to even, carries, overflow, and every finite f16 round-trips', () => {
    expect([1, -2, 65504, 65519, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -25].map(f16Bits)).toEqual([0x3c00, 0xc000, 0x7bff, 0x7bff, 0x7c00, 1, 0, 2]);
    expect([1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 - 2 ** -12].map(f16Bits)).toEqual([0x3c00, 0x3c02, 0x4000]);
    expect(f16Round(0.1)).toBe(0.0999755859375);
    for (let h = 0; h < 0x7c00; h++) if (f16Bits(fromF16Bits(h)) !== h) throw new Error(`f16 ${h} does not round-trip`);
  });

  it('writes a tile into an f16 band: each value one of its two f16 neighbours (WGSL lets either be chosen)', async (ctx) => {
    skipWithoutF16(ctx);
    const [h, w, dW] = [5, 6, 8];
    // Magnitudes from 1e-6 (subnormal in f16) to 3e4, both signs, and values exactly halfway between two f16.
    const src = Float32Array.from(hashUniform(C * h * w, 9, 1), (v, i) => Math.fround(v * 10 ** ((i % 11) - 6) * 3));
    for (const i of [1, 7, 13]) src[i] = 1 + (2 * i + 1) * 2 ** -11;
    const t = Tensor.fromArray(src, [1, C, h, w]);
    const band = f16Tensor(new Float32Array(C * h * dW).fill(9), [1, C, h, dW]);
    mapWindow({ bands: [{ tensor: t, start: 0 }], height: h, y0: 0, x0: 0, h, w, pad: 'zero', into: { tensor: band, dx0: 1 } });
    const got = await f16Data(band);
    let nearest = 0;
    for (let c = 0; c < C; c++) {
      for (let r = 0; r < h; r++) {
        for (let j = 0; j < dW; j++) {
          const g = got[(c * h + r) * dW + j];
          if (j < 1 || j >= 1 + w) {
            expect(g).toBe(9);
            continue;
          }
          const x = src[(c * h + r) * w + j - 1];
          expect(Math.abs(g - x)).toBeLessThan(f16Ulp(x));
          if (g === f16Round(x)) nearest++;
        }
      }
    }
    console.log(`f16 band write: ${nearest}/${C * h * w} values rounded to nearest (ties to even)`);
    t.dispose();
    band.dispose();
  });

  it('reads f16 bands into f32 windows exactly, normalised + ReLU, across bands and borders, ×2 upsampled', async (ctx) => {
    skipWithoutF16(ctx);
    const halves = () => cuts.slice(0, -1).map((start, k) => {
      const rows = cuts[k + 1] - start;
      const data = new Float32Array(C * rows * W);
      for (let c = 0; c < C; c++) data.set(map.subarray((c * H + start) * W, (c * H + start + rows) * W), c * rows * W);
      return { tensor: f16Tensor(data, [1, C, rows, W]), start };
    });
    const rounded = Float32Array.from(map, f16Round);
    const specs: (Omit<WindowSpec, 'bands' | 'height' | 'stats'> & { stats?: number[] })[] = [
      { y0: -3, x0: -2, h: 12, w: 6, pad: 'reflect', stats, relu: true },
      { y0: -1, x0: -1, h: 20, w: 16, pad: 'reflect', up: 2 },
      { y0: 4, x0: 3, h: 6, w: 6, pad: 'zero', stats },
    ];
    for (const spec of specs) {
      const bs = halves();
      const st = spec.stats ? Tensor.fromArray(spec.stats, [2 * C]) : undefined;
      const y = mapWindow({ ...spec, bands: bs, height: H, stats: st });
      expect(y.dtype).toBe('f32');
      // The f32 oracle over the f16-rounded map: the stats are powers of two and quarters, so f32 is exact.
      map.set(rounded);
      const want = oracle(spec);
      map.set(original);
      expect(Array.from(await y.data())).toEqual(Array.from(want));
      for (const t of [y, st, ...bs.map((b) => b.tensor)]) t?.dispose();
    }
  });

  it('refuses bands of mixed dtypes and reading an f16 tensor as f32 values', async () => {
    const a = Tensor.zeros([1, C, 2, W]);
    const b = f16Tensor(new Float32Array(C * 2 * W), [1, C, 2, W]);
    expect(() => mapWindow({ bands: [{ tensor: a, start: 0 }, { tensor: b, start: 2 }], height: 4, y0: 0, x0: 0, h: 4, w: 2, pad: 'zero' })).toThrow(/one dtype/);
    await expect(b.data()).rejects.toThrow(/holds f16 values/);
    // A kernel that reads f32 words never gets an f16 map's buffer.
    expect(() => b.binding).toThrow(/holds f16 values/);
    a.dispose();
    b.dispose();
  });
});
