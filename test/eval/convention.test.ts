// The normalized scoring convention against CSBDeep's normalize / normalize_minmse + scikit-image 0.19.3
// (scripts/fixtures/convention.py): PSNR within 1e-5 relative, SSIM and PCC within 1e-6 absolute, the normalised
// ground truth within 1e-6.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeTruth, normalizeMinMse, scoreNormalized, type NormalizedScores } from '../../src/eval/convention.js';
import { psnr } from '../../src/eval/metrics.js';
import type { Image } from '../../src/data/image.js';

const PSNR_REL = 1e-5;
const ABS = 1e-6;

interface Case {
  name: string;
  width: number;
  height: number;
  channels: 1 | 3;
  kind: 'uint16' | 'uint8' | 'float32';
  truth: number[] | string;
  input: number[] | string;
  pred: string;
  truthNormalized: string;
  pred_scores: NormalizedScores;
  input_scores: NormalizedScores;
}

const CASES: Case[] = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'convention', 'cases.json'), 'utf8')).cases;

const f32 = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

function image(cs: Case, data: number[] | string): Image {
  const { width, height, channels } = cs;
  const typed = typeof data === 'string' ? f32(data) : cs.kind === 'uint8' ? Uint8Array.from(data) : Uint16Array.from(data);
  return { width, height, channels, bitDepth: cs.kind === 'uint8' ? 8 : cs.kind === 'uint16' ? 16 : 32, data: typed };
}

function expectScores(ours: NormalizedScores, ref: NormalizedScores): void {
  expect(Math.abs(ours.psnr - ref.psnr) / ref.psnr).toBeLessThanOrEqual(PSNR_REL);
  for (const k of ['ssim', 'ssimWang', 'pcc'] as const) expect(Math.abs(ours[k] - ref[k]), k).toBeLessThanOrEqual(ABS);
}

describe('normalized convention (CSBDeep normalize_minmse + scikit-image)', () => {
  for (const cs of CASES) {
    it(`${cs.name}: normalised ground truth, prediction and input scores`, () => {
      const truth = image(cs, cs.truth);
      const norm = normalizeTruth(truth);
      const ref = f32(cs.truthNormalized);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(norm[i] - ref[i]));
      expect(worst).toBeLessThanOrEqual(ABS);
      expectScores(scoreNormalized(f32(cs.pred), truth), cs.pred_scores);
      expectScores(scoreNormalized(image(cs, cs.input), truth), cs.input_scores);
    });
  }

  it('does not depend on the prediction\'s scale and offset; the raw 16-bit convention barely moves', () => {
    const cs = CASES.find((c) => c.name === 'dim16')!;
    const truth = image(cs, cs.truth);
    const pred = f32(cs.pred);
    const a = scoreNormalized(pred, truth);
    const b = scoreNormalized(pred.map((v) => 1000 * v - 7), truth);
    expect(Math.abs(a.psnr - b.psnr)).toBeLessThan(1e-3);
    expect(Math.abs(a.ssim - b.ssim)).toBeLessThan(1e-5);
    // the reason for the convention: with range 65535, the blurred input of a dim image scores > 60 dB
    const input = image(cs, cs.input);
    expect(psnr(input, truth, { dataRange: 65535 })).toBeGreaterThan(60);
    expect(scoreNormalized(input, truth).psnr).toBeLessThan(40);
  });

  it('normalizeMinMse is the least-squares affine map', () => {
    const t = [0.1, 0.5, 0.2, 0.9, 0.4];
    const out = normalizeMinMse(t.map((v) => 3 * v + 2), t);
    out.forEach((v, i) => expect(v).toBeCloseTo(t[i], 6));
  });

  it('rejects mismatched sizes and a flat ground truth with one line', () => {
    const cs = CASES[0];
    const truth = image(cs, cs.truth);
    expect(() => scoreNormalized(new Float32Array(5), truth)).toThrow(/pred has 5 values, the ground truth 48×40×1 = 1920/);
    expect(() => scoreNormalized({ width: 40, height: 48, channels: 1, data: new Float32Array(1920) }, truth)).toThrow(/image sizes differ/);
    const flat: Image = { width: 8, height: 8, channels: 1, bitDepth: 16, data: new Uint16Array(64).fill(100) };
    expect(() => normalizeTruth(flat)).toThrow(/flat between its 0.1 and 99.9 percentiles/);
    expect(() => normalizeMinMse([1, 2], [1])).toThrow(/x has 2 values, target 1/);
  });
});
