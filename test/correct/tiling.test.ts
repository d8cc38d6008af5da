// Tile layout (CPU only): grid alignment, overlaps of at least the receptive field, cores that partition the image,
// and blend weights that cover every pixel and sum to 1 across a standard overlap.
import { describe, it, expect } from 'vitest';
import { planAxis, axisWeights, receptiveRadius, tileMargin, chooseTile, minTile, TILE_ALIGN, DEFAULT_RAMP } from '../../src/correct/tiling.js';

describe('receptive field', () => {
  it('is 15 + 8 per residual block (the paper generator, 9 blocks: radius 87, 175 px wide)', () => {
    expect(receptiveRadius(0)).toBe(15);
    expect(receptiveRadius(1)).toBe(23);
    expect(2 * receptiveRadius(9) + 1).toBe(175);
    expect(tileMargin(9)).toBe(88);
    expect(tileMargin(1)).toBe(24);
    expect(() => receptiveRadius(-1)).toThrow(/non-negative integer/);
  });
});

describe('planAxis', () => {
  const cases = [
    { n: 152, tile: 84, blocks: 1 },
    { n: 1728, tile: 1000, blocks: 1 },
    { n: 2304, tile: 512, blocks: 9 },
    { n: 520, tile: 196, blocks: 2 },
    { n: 700, tile: 700 - 4, blocks: 9 },
  ];
  for (const { n, tile, blocks } of cases) {
    it(`n ${n}, tile ${tile}, ${blocks} block(s)`, () => {
      const m = tileMargin(blocks);
      const r = DEFAULT_RAMP;
      const spans = planAxis(n, tile, m, r);
      expect(spans.length).toBeGreaterThan(1);
      expect(spans[0].start).toBe(0);
      expect(spans.at(-1)!.start + spans.at(-1)!.size).toBe(n);
      let covered = 0;
      spans.forEach((s, k) => {
        expect(s.size).toBe(tile);
        expect(s.start % TILE_ALIGN).toBe(0);
        expect(s.coreStart).toBe(covered); // cores partition [0, n)
        expect(s.coreEnd).toBeGreaterThan(s.coreStart);
        expect(s.coreStart % TILE_ALIGN).toBe(0);
        covered = s.coreEnd;
        // the core lies where the tile's output is exact: more than the receptive radius from interior edges
        if (k > 0) expect(s.coreStart - s.start).toBeGreaterThan(receptiveRadius(blocks));
        if (k < spans.length - 1) {
          expect(s.start + s.size - s.coreEnd).toBeGreaterThan(receptiveRadius(blocks));
          const overlap = s.start + s.size - spans[k + 1].start;
          expect(overlap).toBeGreaterThanOrEqual(2 * m + r);
          expect(overlap).toBeGreaterThanOrEqual(2 * receptiveRadius(blocks) + 1);
        }
      });
      expect(covered).toBe(n);
    });
  }

  it('one tile when the tile covers the axis; errors for misaligned or too small tiles', () => {
    expect(planAxis(120, 128, 24, 8)).toEqual([{ start: 0, size: 120, coreStart: 0, coreEnd: 120 }]);
    expect(() => planAxis(120, 58, 24, 8)).toThrow(/multiple of 4/);
    expect(() => planAxis(120, 56, 24, 8)).toThrow(/too small for this model.*56 pixels/);
    expect(minTile(1)).toBe(60);
  });
});

describe('axisWeights', () => {
  it('cover every pixel, are 0 near interior edges, sum to 1 over a standard overlap and change smoothly', () => {
    const m = 24;
    const r = 16;
    const n = 400;
    const spans = planAxis(n, 120, m, r);
    const total = new Float64Array(n);
    for (const s of spans) {
      const w = axisWeights(s, n, m, r);
      for (let i = 0; i < s.size; i++) total[s.start + i] += w[i];
      if (s.start > 0) for (let i = 0; i < m; i++) expect(w[i]).toBe(0);
      if (s.start + s.size < n) for (let i = s.size - m; i < s.size; i++) expect(w[i]).toBe(0);
      for (let i = 1; i < s.size; i++) expect(Math.abs(w[i] - w[i - 1])).toBeLessThanOrEqual(Math.PI / (2 * r) + 1e-12);
    }
    for (let i = 0; i < n; i++) expect(total[i]).toBeGreaterThan(0);
    // where neighbours overlap by exactly 2m + r the two ramps are complementary
    const a = { start: 0, size: 100, coreStart: 0, coreEnd: 60 };
    const b = { start: 100 - (2 * m + r), size: 164, coreStart: 60, coreEnd: 200 };
    const wa = axisWeights(a, 200, m, r);
    const wb = axisWeights(b, 200, m, r);
    for (let x = b.start; x < a.size; x++) expect(wa[x] + wb[x - b.start]).toBeCloseTo(1, 12);
  });
});

describe('chooseTile', () => {
  it('keeps the widest tensor within half the binding limit and the forward pass within the memory budget', () => {
    const lavapipe = { maxBinding: 128 * 1024 ** 2, memory: 2 * 1024 ** 3 };
    for (const [ngf, blocks] of [[64, 9], [4, 1], [32, 6]]) {
      const t = chooseTile(ngf, blocks, lavapipe);
      expect(t % TILE_ALIGN).toBe(0);
      expect(ngf * (t + 6) ** 2 * 4).toBeLessThanOrEqual(lavapipe.maxBinding / 2);
      expect(4 * ngf * (13 + blocks / 4) * t * t).toBeLessThanOrEqual(lavapipe.memory);
    }
    expect(chooseTile(64, 9, lavapipe)).toBe(504);
    expect(chooseTile(64, 9, { maxBinding: 2 ** 40, memory: 2 ** 40 })).toBe(2048);
    expect(chooseTile(64, 9, { maxBinding: 1024, memory: 1024 })).toBe(minTile(9)); // never below the smallest useful tile
  });
});
