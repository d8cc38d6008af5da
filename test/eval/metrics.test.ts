// PSNR / SSIM / PCC against scikit-image 0.19.3 and numpy (scripts/fixtures/metrics.py). All metrics must agree
// within 1e-6 absolute (PSNR: 1e-6 dB); the worst deviation per metric is printed at the end.
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { psnr, ssim, pcc, type MetricImage } from '../../src/eval/metrics.js';
import type { Image } from '../../src/data/image.js';
import { hash32 } from '../../src/graph/random.js';

const TOL = 1e-6;

type Num = number | string;
type SsimRef = Num | { error: string };
interface Case {
  name: string;
  kind: 'u8' | 'u16' | 'f64' | 'f32';
  width: number;
  height: number;
  channels: number;
  seed: number;
  variant: 'degraded' | 'identical' | 'constantTruth' | 'constantBoth';
  dataRange: number;
  psnr: Num;
  ssimSkimage: SsimRef;
  ssimWang: SsimRef;
  pcc: Num;
  skimageFloat32?: { psnr: Num; ssimSkimage: SsimRef; ssimWang: SsimRef };
}

const CASES: Case[] = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'metrics', 'cases.json'), 'utf8')).cases;

const num = (v: Num): number => (typeof v === 'number' ? v : Number(v)); // 'Infinity', '-Infinity', 'NaN'

const tri = (t: number, p: number) => Math.abs((t % (2 * p)) - p);

/** Twin of make_pair() in scripts/fixtures/metrics.py: integer-only, so both sides hold identical pixels. */
function makePair(m: number, h: number, w: number, c: number, seed: number, variant: Case['variant']): [Int32Array, Int32Array] {
  const n = h * w * c;
  const truth = new Int32Array(n);
  const n1 = Math.floor(m / 40);
  const n2 = Math.floor(m / 20);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const i = (y * w + x) * c + k;
        const snum = tri(x + 2 * y + 37 * k, 50) * 33 + tri(3 * x + h - y + 11 * k, 33) * 50;
        const base = Math.floor((snum * Math.floor((8 * m) / 10)) / 3300) + Math.floor(m / 10);
        const noise = (hash32(i, seed) % (2 * n1 + 1)) - n1;
        truth[i] = Math.min(m, Math.max(0, base + noise));
      }
    }
  }
  if (variant === 'constantTruth' || variant === 'constantBoth') truth.fill(Math.floor(m / 3));
  if (variant === 'identical' || variant === 'constantBoth') return [truth, truth.slice()];
  const pred = new Int32Array(n);
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) acc += truth[(clamp(y + dy, h - 1) * w + clamp(x + dx, w - 1)) * c + k];
        const i = (y * w + x) * c + k;
        const noise = (hash32(i, seed + 1) % (2 * n2 + 1)) - n2;
        pred[i] = clamp(Math.floor(acc / 9) + noise + Math.floor(m / 50), m);
      }
    }
  }
  return [truth, pred];
}

function images(cs: Case): { truth: MetricImage; pred: MetricImage } {
  const [t, p] = makePair(cs.kind === 'u16' ? 65535 : 255, cs.height, cs.width, cs.channels, cs.seed, cs.variant);
  const convert = (v: Int32Array): ArrayLike<number> => {
    switch (cs.kind) {
      case 'u8': return Uint8Array.from(v);
      case 'u16': return Uint16Array.from(v);
      case 'f64': return Float64Array.from(v, (a) => a / 255);
      case 'f32': return Float32Array.from(v, (a) => a / 255); // float64 division rounded to float32, as numpy
    }
  };
  const img = (v: Int32Array) => ({ width: cs.width, height: cs.height, channels: cs.channels, data: convert(v) });
  return { truth: img(t), pred: img(p) };
}

const worst: Record<string, number> = { psnr: 0, ssimSkimage: 0, ssimWang: 0, pcc: 0, 'skimage float32 ssim': 0, 'skimage float32 psnr': 0 };

function close(metric: string, ours: number, ref: Num): void {
  const want = num(ref);
  if (!Number.isFinite(want)) {
    expect(ours).toBe(want); // toBe treats NaN as equal to NaN
    return;
  }
  const d = Math.abs(ours - want);
  worst[metric] = Math.max(worst[metric], d);
  expect(d, `${metric}: ours ${ours}, reference ${want}`).toBeLessThanOrEqual(TOL);
}

afterAll(() => {
  console.log(`metrics: worst |ours − reference| over ${CASES.length} cases: ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
});

describe('metrics vs scikit-image 0.19.3 / numpy', () => {
  for (const cs of CASES) {
    it(`${cs.name} (${cs.kind}, dataRange ${cs.dataRange})`, () => {
      const { truth, pred } = images(cs);
      if (cs.variant === 'degraded' && cs.dataRange !== 255 && cs.dataRange !== 65535 && cs.kind === 'u16') {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = 0; i < truth.data.length; i++) {
          lo = Math.min(lo, truth.data[i]);
          hi = Math.max(hi, truth.data[i]);
        }
        expect(cs.dataRange).toBe(hi - lo); // the "range of truth" cases
      }
      const dataRange = cs.dataRange;
      close('psnr', psnr(pred, truth, { dataRange }), cs.psnr);
      close('pcc', pcc(pred, truth), cs.pcc);
      for (const convention of ['skimage', 'wang'] as const) {
        const key = convention === 'skimage' ? 'ssimSkimage' : 'ssimWang';
        const ref = cs[key];
        if (typeof ref === 'object') {
          expect(() => ssim(pred, truth, { dataRange, convention })).toThrow(/exceeds the image size/);
          continue;
        }
        const ours = ssim(pred, truth, { dataRange, convention, channels: cs.channels });
        close(key, ours, ref);
        const f32 = cs.skimageFloat32?.[key];
        if (f32 !== undefined) close('skimage float32 ssim', ours, f32 as Num);
      }
      if (cs.skimageFloat32) close('skimage float32 psnr', psnr(pred, truth, { dataRange }), cs.skimageFloat32.psnr);
    });
  }
});

describe('metrics special values and errors', () => {
  const byName = (name: string) => images(CASES.find((c) => c.name === name)!);

  it('identical images: PSNR Infinity, SSIM exactly 1, PCC 1', () => {
    const { truth } = byName('identical_rgb8_40x30');
    expect(psnr(truth, truth, { dataRange: 255 })).toBe(Infinity);
    expect(ssim(truth, truth, { dataRange: 255, convention: 'skimage' })).toBe(1);
    expect(ssim(truth, truth, { dataRange: 255, convention: 'wang' })).toBe(1);
    expect(pcc(truth, truth)).toBeCloseTo(1, 15);
  });

  it('constant image: PCC is NaN (numpy corrcoef 0/0), even where a float mean would miss by an ulp', () => {
    const { truth, pred } = byName('constant_truth_gray8_20x16');
    expect(pcc(pred, truth)).toBeNaN();
    expect(pcc(truth, pred)).toBeNaN();
    const tenths = { width: 9, height: 7, channels: 1, data: new Float64Array(63).fill(0.1) };
    expect(pcc(tenths, { ...tenths, data: Float64Array.from({ length: 63 }, (_, i) => i) })).toBeNaN();
  });

  it('accepts the Image type of src/data/image.ts', () => {
    const { truth, pred } = byName('gray8_64x48');
    const asImage = (m: MetricImage): Image => ({ width: m.width, height: m.height, channels: 1, bitDepth: 8, data: m.data as Uint8Array });
    const cs = CASES.find((c) => c.name === 'gray8_64x48')!;
    close('psnr', psnr(asImage(pred), asImage(truth), { dataRange: 255 }), cs.psnr);
  });

  it('size mismatch names both sizes', () => {
    const a = { width: 8, height: 9, channels: 1, data: new Uint8Array(72) };
    const b = { width: 9, height: 8, channels: 1, data: new Uint8Array(72) };
    const c = { width: 8, height: 9, channels: 3, data: new Uint8Array(216) };
    const msg = /pred 8×9×1, truth 9×8×1/;
    expect(() => psnr(a, b, { dataRange: 255 })).toThrow(msg);
    expect(() => ssim(a, b, { dataRange: 255, convention: 'skimage' })).toThrow(msg);
    expect(() => pcc(a, b)).toThrow(msg);
    expect(() => pcc(a, c)).toThrow(/pred 8×9×1, truth 8×9×3/);
  });

  it('rejects missing or bad dataRange, wrong data length, channel mismatch and unknown convention', () => {
    const a = { width: 8, height: 8, channels: 1, data: new Uint8Array(64) };
    expect(() => psnr(a, a, {} as { dataRange: number })).toThrow(/dataRange must be a positive finite number.*got undefined/);
    expect(() => ssim(a, a, { dataRange: 0, convention: 'skimage' })).toThrow(/dataRange must be a positive finite number.*got 0/);
    expect(() => psnr(a, a, { dataRange: NaN })).toThrow(/got NaN/);
    expect(() => pcc(a, { ...a, data: new Uint8Array(63) })).toThrow(/truth has 63 values, expected 8×8×1 = 64/);
    expect(() => ssim(a, a, { dataRange: 255, convention: 'skimage', channels: 3 })).toThrow(/opts.channels is 3 but the images have 1/);
    expect(() => ssim(a, a, { dataRange: 255, convention: 'gauss' as 'wang' })).toThrow(/convention must be 'skimage' or 'wang', got gauss/);
  });
});
