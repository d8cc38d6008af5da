import { describe, it, expect } from 'vitest';
import { estimateShift, registerPairs, registrationNote } from '../../src/data/register.js';
import { selectKeys, createSampler, type Dataset, type DatasetImage } from '../../src/data/dataset.js';
import { Rng } from '../../src/data/rng.js';
import { hashUniform } from '../../src/graph/random.js';

const W = 96;
const H = 80;

/** A smooth random scene (sum of blobs) on a (W + 2·pad)² canvas, so shifted windows stay inside it. */
function scene(seed: number, pad: number): { data: Float64Array; side: number } {
  const side = W + 2 * pad;
  const data = new Float64Array(side * side);
  const u = hashUniform(120, seed); // in [−1, 1)
  for (let b = 0; b < 40; b++) {
    const cx = ((u[3 * b] + 1) / 2) * side;
    const cy = ((u[3 * b + 1] + 1) / 2) * side;
    const r = 2 + 2 * (u[3 * b + 2] + 1);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[y * side + x] += Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r));
  }
  return { data, side };
}

/** The W × H window at (x0, y0) of the scene, optionally box-blurred (radius) as defocus would. */
function view(s: { data: Float64Array; side: number }, x0: number, y0: number, blur: number, file: string): DatasetImage {
  const planes = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sum = 0;
      let n = 0;
      for (let j = -blur; j <= blur; j++) for (let i = -blur; i <= blur; i++, n++) sum += s.data[(y0 + y + j) * s.side + x0 + x + i];
      planes[y * W + x] = sum / n;
    }
  }
  return { file, width: W, height: H, channels: 1, bitDepth: 8, normalization: { kind: 'range', min: 0, max: 255 }, planes };
}

const noise = (seed: number, file: string): DatasetImage => ({
  file, width: W, height: H, channels: 1, bitDepth: 8, normalization: { kind: 'range', min: 0, max: 255 },
  planes: hashUniform(W * H, seed),
});

describe('pair registration', () => {
  const pad = 12;
  const s = scene(5, pad);

  it('finds the known integer shift between a blurred view and a sharp view of the same scene', () => {
    for (const [dx, dy] of [[3, -2], [-5, 4], [0, 7], [0, 0]]) {
      // Target pixel (x + dx, y + dy) shows source pixel (x, y): the target window starts dx, dy earlier.
      const source = view(s, pad, pad, 2, 'blurred/a.png');
      const target = view(s, pad - dx, pad - dy, 0, 'clear/a.png');
      const r = estimateShift(source, target, 8);
      expect([r.dx, r.dy]).toEqual([dx, dy]);
      expect(r.ncc).toBeGreaterThanOrEqual(r.ncc0);
    }
  });

  it('leaves a pair alone when the best match lies on the edge of the search window or gains nothing', () => {
    const source = view(s, pad, pad, 1, 'blurred/a.png');
    expect(estimateShift(source, view(s, pad - 10, pad, 0, 'clear/a.png'), 4)).toMatchObject({ dx: 0, dy: 0 });
    expect(estimateShift(noise(1, 'blurred/n.png'), noise(2, 'clear/n.png'), 6)).toMatchObject({ dx: 0, dy: 0 });
  });

  it('crops both images of a shifted pair to their overlap, pixel for pixel, and keeps the dataset usable', () => {
    const [dx, dy] = [4, -3];
    const shifted = { key: 'a', source: view(s, pad, pad, 2, 'blurred/a.png'), target: view(s, pad - dx, pad - dy, 0, 'clear/a.png') };
    const still = { key: 'b', source: view(s, pad, pad, 2, 'blurred/b.png'), target: view(s, pad, pad, 0, 'clear/b.png') };
    const ds: Dataset = {
      layout: 'paired', root: '/nowhere', pairs: [shifted, still], unmatched: [], keys: ['a', 'b'],
      source: [shifted.source, still.source], target: [shifted.target, still.target],
    };
    const { dataset, shifts } = registerPairs(ds, 8);
    expect(shifts.map((r) => [r.dx, r.dy])).toEqual([[dx, dy], [0, 0]]);
    const a = dataset.pairs[0];
    expect([a.source.width, a.source.height, a.target.width, a.target.height]).toEqual([W - 4, H - 3, W - 4, H - 3]);
    // The aligned target equals the sharp scene over the source's own window, shrunk to the overlap.
    const sharp = view(s, pad, pad, 0, 'x');
    for (const [x, y] of [[0, 0], [10, 20], [W - 5, H - 4]]) {
      expect(a.target.planes[y * a.target.width + x]).toBe(sharp.planes[(y + 3) * W + x]);
      expect(a.source.planes[y * a.source.width + x]).toBe(shifted.source.planes[(y + 3) * W + x]);
    }
    expect(dataset.pairs[1]).toBe(still);
    const part = selectKeys(dataset, ['a']);
    expect(part.source).toEqual([a.source]);
    const sample = createSampler(part, { size: 32 }).nextSample(new Rng(1));
    expect(sample.source.length).toBe(32 * 32);
    expect(registrationNote(shifts, 8)).toMatch(/1 of 2 pairs shifted.*blurred\/a\.png by \(4, -3\) px/);
    expect(registrationNote([shifts[1]], 8)).toMatch(/every pair is aligned/);
  });

  it('refuses an unpaired dataset and a bad radius', () => {
    const ds: Dataset = { layout: 'unpaired', root: '/x', pairs: [], unmatched: [], keys: [], source: [], target: [] };
    expect(() => registerPairs(ds, 4)).toThrow(/unpaired/);
    expect(() => registerPairs({ ...ds, layout: 'paired' }, 0)).toThrow(/integer ≥ 1/);
  });
});
