// TIFF stacks with their axes and physical metadata, against files written by tifffile (scripts/fixtures/
// tiff_stacks.py): every page read in order, ImageJ/OME axes and pixel sizes recovered, and what we write reads back
// the same; unsupported layouts are one clear error.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStack, writeStack, type Image } from '../../src/data/image.js';
import { hash32 } from '../../src/graph/random.js';
import { loadDataset } from '../../src/data/dataset.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'tiff_stacks');
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8'));
const hashed = (seed: number, n: number) => Uint16Array.from({ length: n }, (_, i) => hash32(i, seed) & 0xffff);
/** Pixel sizes go through a uint32 rational: about 1e-9 relative. */
const close = (a: number | undefined, b: number) => expect(Math.abs(a! - b) / b).toBeLessThan(1e-6);

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'comi-stack-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function checkPixels(file: string, pages: { data: ArrayLike<number> }[]) {
  const e = expected[file];
  const n = e.shape.reduce((a: number, b: number) => a * b);
  expect(pages.length * pages[0].data.length).toBe(n);
  const all = new Uint16Array(n);
  pages.forEach((p, k) => all.set(p.data, k * p.data.length));
  expect(all).toEqual(hashed(e.seed, n));
}

describe('TIFF stacks', () => {
  it('a plain 3-page 16-bit stack: 3 pages in order, Z axis, 0.5 µm pixels from the centimetre resolution', async () => {
    const s = await readStack(join(FIX, 'stack3_u16.tif'));
    await checkPixels('stack3_u16.tif', s.pages);
    expect(s.meta.axes).toEqual([{ axis: 'Z', size: 3 }]);
    expect(s.meta.pixelSize!.unit).toBe('micron');
    close(s.meta.pixelSize!.x, 0.5);
  });

  it('an ImageJ hyperstack (Z × C): axes, unit, spacing; written back the same and read again', async () => {
    const s = await readStack(join(FIX, 'hyperstack_zc.tif'));
    await checkPixels('hyperstack_zc.tif', s.pages);
    expect(s.meta.axes).toEqual([{ axis: 'Z', size: 3 }, { axis: 'C', size: 2 }]);
    expect(s.meta.pixelSize!.unit).toBe('um');
    close(s.meta.pixelSize!.x, 0.65);
    expect(s.meta.zSpacing).toBe(2.5);
    expect(s.meta.imagej).toEqual({ mode: 'grayscale' });
    const out = join(dir, 'hs.tif');
    await writeStack(out, s);
    const desc = readFileSync(out).toString('latin1');
    expect(desc).toContain('ImageJ=1.11a\nimages=6\nchannels=2\nslices=3\nhyperstack=true\nunit=um\nspacing=2.5\nmode=grayscale\n');
    const back = await readStack(out);
    expect(back.pages).toEqual(s.pages);
    expect(back.meta.axes).toEqual(s.meta.axes);
    close(back.meta.pixelSize!.y, 0.65);
    expect(back.meta.zSpacing).toBe(2.5);
  });

  it('an OME-TIFF: axes from DimensionOrder, PhysicalSizeX/Y/Z and channel names; the OME-XML written back', async () => {
    const s = await readStack(join(FIX, 'ome_zc.ome.tif'));
    await checkPixels('ome_zc.ome.tif', s.pages);
    expect(s.meta.axes).toEqual([{ axis: 'Z', size: 3 }, { axis: 'C', size: 2 }]);
    expect(s.meta.pixelSize).toEqual({ x: 0.325, y: 0.325, unit: 'micron' });
    expect(s.meta.zSpacing).toBe(1.5);
    expect(s.meta.channelNames).toEqual(['DAPI', 'GFP']);
    const out = join(dir, 'o.ome.tif');
    const f32 = s.pages.map((p) => ({ ...p, bitDepth: 32 as const, data: Float32Array.from(p.data) }));
    await writeStack(out, { pages: f32, meta: s.meta }, 16);
    const back = await readStack(out);
    expect(back.meta.omeXml).toContain('Type="float"');
    expect(back.meta.omeXml).toContain('PhysicalSizeZ="1.5"');
    expect(back.meta.pixelSize).toEqual(s.meta.pixelSize);
    expect(back.meta.channelNames).toEqual(['DAPI', 'GFP']);
    expect(back.pages.map((p) => p.bitDepth)).toEqual(Array(6).fill(32));
  });

  it('refuses an OME-TIFF with two series and a stack of mixed page sizes, naming the file', async () => {
    const two = join(FIX, 'ome_two_series.ome.tif');
    await expect(readStack(two)).rejects.toThrow(`not supported: OME-TIFF layout with 2 images (series) in one file (readable: one image per file) in ${two}`);
    const mixed = join(FIX, 'mixed_sizes.tif');
    await expect(readStack(mixed)).rejects.toThrow(`not supported: stack with pages of different sizes or types (page 1: 28×20 16-bit gray, page 2: 28×22 16-bit gray) in ${mixed}`);
  });

  it('a multi-page stack cannot go to PNG; a single page keeps working as before', async () => {
    const s = await readStack(join(FIX, 'stack3_u16.tif'));
    await expect(writeStack(join(dir, 'x.png'), s)).rejects.toThrow('a 3-page stack needs a .tif output');
    await writeStack(join(dir, 'one.png'), { pages: [s.pages[0]], meta: { axes: [] } });
    expect((await readStack(join(dir, 'one.png'))).pages[0]).toEqual(s.pages[0]);
  });

  it('training refuses a stack in a paired set instead of reading its first page', async () => {
    const root = join(dir, 'ds');
    for (const d of ['s', 't']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(join(FIX, 'stack3_u16.tif'), join(root, 's', 'a.tif'));
    copyFileSync(join(FIX, 'stack3_u16.tif'), join(root, 't', 'a.tif'));
    await expect(loadDataset({ root, layout: 'paired', source: 's', target: 't' })).rejects.toThrow(
      `${join(root, 's', 'a.tif')} is a 3-page stack; in a training set a stack is one field of view of --layout zstack with --in-focus PLANE (a page number)`,
    );
  });

  it('zstack with one stack file per field of view: every page pairs with the in-focus page of its file', async () => {
    const root = join(dir, 'fovs');
    mkdirSync(root);
    const page = (v: number): Image => ({ width: 16, height: 12, channels: 1, bitDepth: 16, data: new Uint16Array(192).fill(v) });
    for (const f of ['fov1', 'fov2']) {
      await writeStack(join(root, `${f}.tif`), { pages: [1, 2, 3, 4, 5].map((z) => page(1000 * z + (f === 'fov2' ? 1 : 0))), meta: { axes: [{ axis: 'Z', size: 5 }] } });
    }
    const ds = await loadDataset({ root, layout: 'zstack', inFocus: '3', normalization: '16bit-range' });
    expect(ds.pairs.map((p) => [p.key, p.source.file, p.target.file])).toEqual([
      ...[1, 2, 4, 5].map((z) => ['fov1', `fov1.tif#${z}`, 'fov1.tif#3']),
      ...[1, 2, 4, 5].map((z) => ['fov2', `fov2.tif#${z}`, 'fov2.tif#3']),
    ]);
    expect(ds.keys).toEqual(['fov1', 'fov2']); // a split keeps every plane of a field on one side
    const want = (v: number) => (v / 65535) * 2 - 1;
    expect(ds.pairs[2].source.planes[0]).toBeCloseTo(want(4000), 6);
    expect(ds.pairs[6].target.planes[0]).toBeCloseTo(want(3001), 6);
    expect((await loadDataset({ root, layout: 'zstack', inFocus: '3', planes: ['5'] })).pairs.map((p) => p.source.file)).toEqual(['fov1.tif#5', 'fov2.tif#5']);
    await expect(loadDataset({ root, layout: 'zstack', inFocus: '6' })).rejects.toThrow(`${join(root, 'fov1.tif')} has 5 planes; there is no plane 6 (planes are numbered from 1)`);
    await expect(loadDataset({ root, layout: 'zstack', inFocus: '3', planes: ['Z004'] })).rejects.toThrow("with an in-focus page number the input planes are page numbers too, got 'Z004'");
    copyFileSync(join(FIX, 'hyperstack_zc.tif'), join(root, 'fov3.tif'));
    await expect(loadDataset({ root, layout: 'zstack', inFocus: '1' })).rejects.toThrow(`not supported: ${join(root, 'fov3.tif')} has axes ZC; a training z-stack needs one axis`);
  });
});
