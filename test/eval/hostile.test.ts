// evaluate with inputs that cannot give metrics (issue 18, findings 1, 9 and 10): non-finite predictions are
// flagged, an all-NaN ground truth is named as such (not "constant"), and nothing is written when no image could
// be evaluated.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImage, type Image } from '../../src/data/image.js';
import { evaluate } from '../../src/eval/qc.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comi-eval-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const float = (fill: (i: number) => number): Image => ({ width: 16, height: 16, channels: 1, bitDepth: 32, data: Float32Array.from({ length: 256 }, (_, i) => fill(i)) });

async function folders(name: string, pred: Image, truth: Image): Promise<{ pred: string; truth: string; out: string }> {
  const root = join(dir, name);
  for (const d of ['pred', 'truth']) mkdirSync(join(root, d), { recursive: true });
  await writeImage(join(root, 'pred', 'a.tif'), pred);
  await writeImage(join(root, 'truth', 'a.tif'), truth);
  return { pred: join(root, 'pred'), truth: join(root, 'truth'), out: join(root, 'out') };
}

describe('evaluate: non-finite images', () => {
  it('an all-NaN ground truth is named as such; with nothing evaluated, no metrics or report is written', async () => {
    const f = await folders('nan-truth', float((i) => i), float(() => NaN));
    const res = await evaluate({ ...f, dataRange: 'truth' });
    expect(res).toMatchObject({ results: [], summary: [], written: [] });
    expect(res.failures).toEqual([{ file: 'a.tif', message: `ground truth ${join(f.truth, 'a.tif')} is all NaN/Inf: metrics need finite values` }]);
    expect(existsSync(f.out) ? readdirSync(f.out) : []).toEqual([]);
  });

  it('a prediction with NaN (a diverged model) is flagged, not scored', async () => {
    const f = await folders('nan-pred', float((i) => (i === 3 ? NaN : 0)), float((i) => i));
    const res = await evaluate({ ...f, dataRange: 1 });
    expect(res.failures).toEqual([{ file: 'a.tif', message: `prediction ${join(f.pred, 'a.tif')} has 1 NaN/Inf value(s) of 256: metrics need finite values` }]);
  });
});
