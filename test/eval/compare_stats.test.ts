import { describe, it, expect } from 'vitest';
import { summarize, defocusOf, binOf, meanStd, t95, type ScoreRow } from '../../src/eval/compare_stats.js';

const row = (method: string, repeat: number, image: string, psnr: number): ScoreRow => ({ method, repeat, image, scores: { psnr, ssim: psnr / 100, pcc: psnr / 50 } });

describe('compare statistics', () => {
  it('reads |z| from names and bins it', () => {
    expect(defocusOf('level1-ix000_iy025_z-36.00.png')).toBe(36);
    expect(defocusOf('f_z4.5.tif')).toBe(4.5);
    expect(defocusOf('field_0001.png')).toBeNull();
    expect(binOf(36, [0, 5, 15, 30, 50])).toBe('30–50');
    expect(binOf(0.1, [0, 5, 15, 30, 50])).toBe('0–5');
    expect(binOf(60, [0, 5, 15, 30, 50])).toBe('≥50');
  });

  it('sample std, and Student t quantiles (scipy.stats.t.ppf(0.975, df))', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3), n: 4 });
    expect(t95(1)).toBeCloseTo(12.706, 3);
    expect(t95(9)).toBeCloseTo(2.262, 3);
    expect(t95(200)).toBe(1.96);
  });

  it('mean ± std over repeats of per-repeat means; paired differences over repeat-averaged images with a t interval', () => {
    const rows = [
      row('input', 0, 'a_z10.png', 20), row('input', 0, 'b_z40.png', 22), row('input', 0, 'c_z40.png', 24),
      row('comi', 0, 'a_z10.png', 21), row('comi', 0, 'b_z40.png', 24), row('comi', 0, 'c_z40.png', 25),
      row('comi', 1, 'a_z10.png', 23), row('comi', 1, 'b_z40.png', 24), row('comi', 1, 'c_z40.png', 27),
    ];
    const { summary, diffs } = summarize(rows, ['input', 'comi'], [0, 5, 15, 30, 50]);
    const comiAll = summary.find((s) => s.method === 'comi' && s.bin === 'all')!;
    // Repeat means 70/3 and 74/3: mean 24, std of the two = (4/3)/√2.
    expect(comiAll.mean.psnr).toBeCloseTo(24, 10);
    expect(comiAll.std.psnr).toBeCloseTo(4 / 3 / Math.SQRT2, 10);
    expect(comiAll.repeats).toBe(2);
    // Per image: comi 22, 24, 26 vs input 20, 22, 24 → differences 2, 2, 2: mean 2, zero-width interval.
    const d = diffs.find((x) => x.method === 'comi' && x.baseline === 'input' && x.bin === 'all')!;
    expect([d.mean.psnr, d.lo.psnr, d.hi.psnr]).toEqual([2, 2, 2]);
    const bin = diffs.find((x) => x.method === 'comi' && x.baseline === 'input' && x.bin === '30–50')!;
    expect(bin.images).toBe(2);
    expect(summary.map((s) => s.bin)).toEqual(['all', 'all', '5–15', '5–15', '30–50', '30–50']);
  });
});
