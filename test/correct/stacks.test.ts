// `correct` on stacks: every plane corrected (each equal to correcting that page alone), the same page count, order,
// axes, dtype and physical metadata written back; files that cannot be read as a stack fail with one line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { runConfig, writeTestRun } from './helpers.js';
import { correctFiles, correctImage, runSettings } from '../../src/correct/correct.js';
import { readStack } from '../../src/data/image.js';
import type { ResnetGenerator } from '../../src/model/generator.js';

useGpu();
const FIX = join(import.meta.dirname, '..', 'fixtures', 'tiff_stacks');
let dir: string;
let run: string;
let g: ResnetGenerator;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'comi-stacks-'));
  run = join(dir, 'run');
  g = await writeTestRun(run, runConfig({ channels: 1 }, { normalization: 'percentile', percentiles: { pLow: 1, pHigh: 99 } }));
});
afterAll(() => {
  g.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('correct on stacks', () => {
  it('keeps pages, axes, dtype, pixel size, z spacing and channel names; each plane is corrected on its own', async () => {
    const files = ['stack3_u16.tif', 'hyperstack_zc.tif', 'ome_zc.ome.tif'].map((f) => join(FIX, f));
    const out = join(dir, 'out');
    const written: number[] = [];
    const res = await correctFiles({ model: run, out, inputs: files, onWritten: (_j, _r, pages) => written.push(pages) });
    expect(res.failures).toEqual([]);
    expect(written).toEqual([3, 6, 6]);
    for (const f of files) {
      const input = await readStack(f);
      const output = await readStack(join(out, f.split('/').pop()!));
      expect(output.pages.length).toBe(input.pages.length);
      expect(output.pages.map((p) => [p.width, p.height, p.bitDepth])).toEqual(input.pages.map((p) => [p.width, p.height, p.bitDepth]));
      expect(output.meta.axes).toEqual(input.meta.axes);
      expect(output.meta.pixelSize!.unit).toBe(input.meta.pixelSize!.unit);
      expect(Math.abs(output.meta.pixelSize!.x - input.meta.pixelSize!.x) / input.meta.pixelSize!.x).toBeLessThan(1e-6);
      expect(output.meta.zSpacing).toBe(input.meta.zSpacing);
      expect(output.meta.channelNames).toEqual(input.meta.channelNames);
      const s = runSettings(res.config);
      for (const k of [0, input.pages.length - 1]) {
        const alone = await correctImage(g, input.pages[k], s);
        expect(output.pages[k].data).toEqual(alone.image.data);
      }
      expect(output.pages[0].data).not.toEqual(output.pages[1].data);
    }
  });

  it('a stack that cannot be read is one failure line naming the file; the others are written', async () => {
    const res = await correctFiles({ model: run, out: join(dir, 'out2'), inputs: [join(FIX, 'mixed_sizes.tif'), join(FIX, 'stack3_u16.tif')] });
    expect(res.written.map((j) => j.input)).toEqual([join(FIX, 'stack3_u16.tif')]);
    expect(res.failures).toEqual([{ file: join(FIX, 'mixed_sizes.tif'), message: expect.stringMatching(/^not supported: stack with pages of different sizes .* in .*mixed_sizes\.tif$/) }]);
  });

  it('a stack to a PNG name is refused, not cut to one page', async () => {
    const res = await correctFiles({ model: run, out: join(dir, 'out3'), name: '{name}.png', inputs: [join(FIX, 'stack3_u16.tif')] });
    expect(res.written).toEqual([]);
    expect(res.failures[0].message).toMatch(/a 3-page stack needs a \.tif output$/);
  });
});
