// Which files a correction batch reads and writes (CPU only): inputs from files, folders and globs, output names,
// and the refusal to overwrite; output type conversion of the corrected planes.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandInputs, outputPath, planJobs, checkNamePattern } from '../../src/correct/files.js';
import { toOutputImage } from '../../src/correct/correct.js';
import { fitNormalization, normalize } from '../../src/data/normalize.js';
import type { Image } from '../../src/data/image.js';
import { hash32 } from '../../src/graph/random.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comi-files-'));
  for (const f of ['a/one.png', 'a/two.TIF', 'a/notes.txt', 'a/.hidden.png', 'a/sub/three.jpg', 'b/one.png', 'b/deep/er/four.tiff']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'x');
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('expandInputs', () => {
  it('takes files as given, the images of a folder (not recursive) and the images a glob matches', () => {
    const p = (f: string) => join(dir, f);
    expect(expandInputs([p('a')]).files).toEqual([p('a/one.png'), p('a/two.TIF')]);
    expect(expandInputs([p('a/notes.txt')]).files).toEqual([p('a/notes.txt')]); // reading it will say it is unsupported
    expect(expandInputs([p('*/one.png')]).files).toEqual([p('a/one.png'), p('b/one.png')]);
    expect(expandInputs([p('a/*.{png,TIF}')]).files).toEqual([]); // braces are not glob syntax here
    expect(expandInputs([p('a/[ot]*')]).files).toEqual([p('a/one.png'), p('a/two.TIF')]);
    expect(expandInputs([p('**/*.tiff')]).files).toEqual([p('b/deep/er/four.tiff')]);
    expect(expandInputs([p('a/**/*.jpg')]).files).toEqual([p('a/sub/three.jpg')]);
    expect(expandInputs([p('a'), p('a/one.png'), p('a/?ne.png')]).files).toEqual([p('a/one.png'), p('a/two.TIF')]); // once each
  });

  it('reports missing paths, empty folders and patterns that match nothing, and keeps the rest', () => {
    const { files, failures } = expandInputs([join(dir, 'nope.png'), join(dir, 'a/sub/*.png'), join(dir, 'b'), join(dir, 'b/deep')]);
    expect(files).toEqual([join(dir, 'b/one.png')]);
    expect(failures).toEqual([
      { file: join(dir, 'nope.png'), message: 'no such file or folder' },
      { file: join(dir, 'a/sub/*.png'), message: expect.stringMatching(/^pattern matches no images/) },
      { file: join(dir, 'b/deep'), message: expect.stringMatching(/^folder has no images/) },
    ]);
  });
});

describe('output names', () => {
  it('fills {name} {ext} {parent} {model}; {ext} becomes .tif where the format cannot hold the type', () => {
    expect(outputPath('in/x/cell.png', 'out', '{name}{ext}', 'same', 'run1')).toBe(join('out', 'cell.png'));
    expect(outputPath('in/x/cell.png', 'out', '{model}/{parent}_{name}_fixed{ext}', 'uint16', 'run1')).toBe(join('out', 'run1', 'x_cell_fixed.png'));
    expect(outputPath('cell.png', 'out', '{name}{ext}', 'float32', 'r')).toBe(join('out', 'cell.tif'));
    expect(outputPath('cell.jpg', 'out', '{name}{ext}', 'uint16', 'r')).toBe(join('out', 'cell.tif'));
    expect(outputPath('cell.JPG', 'out', '{name}{ext}', 'uint8', 'r')).toBe(join('out', 'cell.JPG'));
    expect(outputPath('cell.tiff', 'out', '{name}{ext}', 'float32', 'r')).toBe(join('out', 'cell.tiff'));
    expect(outputPath('scan.bmp', 'out', '{name}{ext}', 'same', 'r')).toBe(join('out', 'scan.tif'));
    expect(() => checkNamePattern('{stem}.png')).toThrow(/unknown placeholder \{stem\}/);
    expect(() => checkNamePattern('/abs/{name}.png')).toThrow(/relative path/);
    expect(() => checkNamePattern('../{name}.png')).toThrow(/inside the output folder/);
  });

  it('never plans to overwrite: existing outputs (without overwrite), shared outputs and the input itself fail', () => {
    const out = join(dir, 'b');
    const inputs = [join(dir, 'a/one.png'), join(dir, 'a/two.TIF'), join(dir, 'b/one.png')];
    const plan = planJobs(inputs, out, '{name}{ext}', 'same', 'r', false);
    expect(plan.jobs).toEqual([{ input: join(dir, 'a/two.TIF'), output: join(out, 'two.TIF') }]);
    expect(plan.failures.map((f) => f.message)).toEqual([
      `${join(out, 'one.png')} exists; pass --overwrite to replace it`,
      `output ${join(out, 'one.png')} is the input itself; choose another --out or --name`,
    ]);
    const again = planJobs(inputs, out, '{name}{ext}', 'same', 'r', true);
    expect(again.jobs.map((j) => j.input)).toEqual([join(dir, 'a/one.png'), join(dir, 'a/two.TIF')]);
    expect(again.failures).toEqual([{ file: join(dir, 'b/one.png'), message: expect.stringMatching(/would write .*one\.png, as .*a\/one\.png does; put \{parent\} into --name/) }]);
    expect(planJobs([join(dir, 'a/one.png')], out, '{name}.txt', 'same', 'r', true).failures[0].message).toMatch(/has no image extension/);
  });
});

describe('toOutputImage', () => {
  const img = (bitDepth: 8 | 16 | 32, channels: 1 | 3): Image => {
    const n = 5 * 4 * channels;
    const max = bitDepth === 8 ? 255 : 65535;
    const raw = Array.from({ length: n }, (_, i) => hash32(i, bitDepth) % (max + 1));
    const data = bitDepth === 8 ? Uint8Array.from(raw) : bitDepth === 16 ? Uint16Array.from(raw) : Float32Array.from(raw, (v) => v / 7);
    return { width: 5, height: 4, channels, bitDepth, data };
  };

  it("'same' inverts the mapping exactly; float32 keeps the input's units; uint8/uint16 rescale the full range", () => {
    for (const [bits, mode] of [[8, '8bit'], [16, '16bit-range'], [16, 'percentile'], [32, 'percentile']] as const) {
      const x = img(bits, 3);
      const n = fitNormalization(x, mode);
      const planes = normalize(x, n);
      const same = toOutputImage(planes, n, x, 'same');
      expect(same.bitDepth).toBe(bits);
      const f = toOutputImage(planes, n, x, 'float32');
      expect(f.bitDepth).toBe(32);
      for (let i = 0; i < x.data.length; i++) {
        if (bits !== 32 && mode !== 'percentile') expect(same.data[i]).toBe(x.data[i]);
        expect(Math.abs(f.data[i] - x.data[i])).toBeLessThanOrEqual(1e-5 * (bits === 8 ? 255 : 65535));
      }
      const u8 = toOutputImage(planes, n, x, 'uint8');
      const u16 = toOutputImage(planes, n, x, 'uint16');
      expect([u8.bitDepth, u16.bitDepth, u8.data.constructor, u16.data.constructor]).toEqual([8, 16, Uint8Array, Uint16Array]);
      if (mode === 'percentile') continue; // clipped at the percentiles: checked through 'same' above
      for (let i = 0; i < x.data.length; i++) {
        const full = bits === 8 ? 255 : 65535;
        expect(u8.data[i]).toBe(Math.round((x.data[i] * 255) / full));
        expect(u16.data[i]).toBe(Math.round((x.data[i] * 65535) / full));
      }
    }
  });

  it('from a float image, uint8/uint16 map the model range [−1, 1] to the full range', () => {
    const x = img(32, 1);
    const n = fitNormalization(x, 'percentile', { pLow: 0, pHigh: 100 });
    const planes = normalize(x, n);
    const u8 = toOutputImage(planes, n, x, 'uint8');
    for (let i = 0; i < planes.length; i++) expect(u8.data[i]).toBe(Math.min(255, Math.max(0, Math.round(((planes[i] + 1) / 2) * 255))));
  });
});
