// `comi weights import` without a GPU: wrong and corrupt files are refused with a message naming what is wrong,
// good files land in the cache once, and training without cached weights stops with the one-line fix.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { readSafetensors } from '../../src/io/safetensors_file.js';
import { importVggFile, readVggCache, cachedVggPath, defaultWeightsDir } from '../../src/weights/cache.js';
import { readVggWeightFile, VGG_CONVS, PREPROCESSING, type VggWeights } from '../../src/weights/vgg19.js';
import { loadVggFeatures, VggWeightsMissingError } from '../../src/model/vgg19.js';
import { fixture, fixtureWeights, expectSameWeights, kerasLayers, writeKerasH5, W16, W32 } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'comi-weights-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const fail = async (p: Promise<unknown>): Promise<string> => {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err, 'expected a rejection').toBeInstanceOf(Error);
  const msg = (err as Error).message;
  expect(msg, 'one line').not.toContain('\n');
  return msg;
};

describe('wrong or corrupt files are rejected by name', () => {
  const keras = () => kerasLayers(fixtureWeights(W16));

  it('a file that is no weight file at all', async () => {
    const txt = join(dir, 'notes.h5');
    writeFileSync(txt, 'these are not weights\n');
    expect(await fail(readVggWeightFile(txt))).toBe(`${txt}: not a VGG19 weight file (expected Keras HDF5 .h5, PyTorch .pth or .safetensors)`);
    expect(await fail(readVggWeightFile(join(dir, 'absent.h5')))).toBe(`${join(dir, 'absent.h5')}: no such file`);
    expect(await fail(readVggWeightFile(dir))).toMatch(/is a folder; give the weight file itself$/);
  });

  it('a truncated HDF5 file names the HDF5 library\'s reason', async () => {
    const cut = join(dir, 'cut.h5');
    writeFileSync(cut, readFileSync(fixture('keras_notop.h5')).subarray(0, 100_000));
    expect(await fail(readVggWeightFile(cut))).toMatch(/^.*cut\.h5: unreadable HDF5 file \(truncated file: eof = 100000, .*\)$/);
  });

  it('HDF5 without VGG19 layers, or with some missing', async () => {
    const other = join(dir, 'other.h5');
    await writeKerasH5(other, { dense_1: keras().block1_conv1 });
    expect(await fail(readVggWeightFile(other))).toBe(`${other}: no VGG19 layers found (expected the 16 convolution layers block1_conv1, block1_conv2 … block5_conv4)`);
    const partial = join(dir, 'partial.h5');
    const layers = keras();
    delete layers.block4_conv3;
    delete layers.block5_conv1;
    await writeKerasH5(partial, layers);
    expect(await fail(readVggWeightFile(partial))).toBe(
      `${partial}: missing layers block4_conv3, block5_conv1 (VGG19 has 16 convolution layers, block1_conv1, block1_conv2 … block5_conv4)`,
    );
  });

  it('wrong shapes: kernel size, first-layer channels, channel chain, bias length, rank', async () => {
    const cases: [string, (l: ReturnType<typeof keras>) => void, string][] = [
      ['kernel5', (l) => (l.block2_conv1.kernel = { shape: [5, 5, 4, 8], data: new Float32Array(25 * 32) }), 'block2_conv1 kernel is 5×5; VGG19 uses 3×3 kernels'],
      ['gray', (l) => (l.block1_conv1.kernel = { shape: [3, 3, 1, 4], data: new Float32Array(36) }), "block1_conv1 takes 1 input channels; VGG19's first layer takes 3 (RGB)"],
      ['chain', (l) => (l.block3_conv1.kernel = { shape: [3, 3, 4, 16], data: new Float32Array(9 * 64) }), 'block3_conv1 takes 4 input channels but block2_conv2 gives 8'],
      ['bias', (l) => (l.block1_conv2.bias = { shape: [5], data: new Float32Array(5) }), 'block1_conv2 bias has shape [5] for 4 output channels'],
      ['rank', (l) => (l.block5_conv4.bias = { shape: [3, 3, 32, 32], data: new Float32Array(9 * 1024) }), 'block5_conv4 should hold one kernel (4-D dataset), found block5_conv4_W_1:0 [3,3,32,32], block5_conv4_b_1:0 [3,3,32,32]'],
    ];
    for (const [name, change, message] of cases) {
      const path = join(dir, `${name}.h5`);
      const layers = keras();
      change(layers);
      await writeKerasH5(path, layers);
      expect(await fail(readVggWeightFile(path)), name).toBe(`${path}: ${message}`);
    }
  });

  it('torchvision names in a safetensors file are checked the same way, and non-finite values are refused', async () => {
    const w = fixtureWeights(W32);
    const tv: VggWeights = {};
    for (const c of VGG_CONVS) for (const k of ['weight', 'bias']) tv[`${c.torchvision}.${k}`] = w[`${c.name}.${k}`];
    const good = join(dir, 'good.safetensors');
    writeFileSync(good, encodeSafetensors(tv));
    const r = await readVggWeightFile(good);
    expect(r.source).toBe('torchvision');
    expectSameWeights(r.weights, w);
    const { ['features.34.bias']: _, ...partial } = tv;
    const missing = join(dir, 'missing.safetensors');
    writeFileSync(missing, encodeSafetensors(partial));
    expect(await fail(readVggWeightFile(missing))).toBe(`${missing}: missing layers features.34 (VGG19 has 16 convolution layers, features.0, features.2 … features.34)`);
    const nan = join(dir, 'nan.safetensors');
    const bad = Float32Array.from(tv['features.5.weight'].data);
    bad[3] = NaN;
    writeFileSync(nan, encodeSafetensors({ ...tv, 'features.5.weight': { shape: tv['features.5.weight'].shape, data: bad } }));
    expect(await fail(readVggWeightFile(nan))).toBe(`${nan}: features.5 holds NaN or infinite values (corrupt file?)`);
  });

  it('a failed import writes nothing to the cache', async () => {
    const txt = join(dir, 'x.pth');
    writeFileSync(txt, Buffer.from([0x80, 0x02, 0x4b, 1, 0x2e]));
    const cache = join(dir, 'cache');
    expect(await fail(importVggFile(txt, { dir: cache }))).toBe(`${txt}: not a PyTorch checkpoint`);
    expect(() => readdirSync(cache)).toThrow(/ENOENT/);
  });
});

describe('the cache', () => {
  it('holds converted weights with source, preprocessing and origin, once per source', async () => {
    const cache = join(dir, 'cache');
    const r = await importVggFile(fixture('keras_notop.h5'), { dir: cache });
    expect(r).toEqual({ source: 'keras', path: cachedVggPath('keras', cache), widths: [4, 4, 8, 8, 16, 16, 16, 16, 32, 32, 32, 32, 32, 32, 32, 32], official: false, unchanged: false });
    const c = readVggCache(r.path, 'keras');
    expectSameWeights(c.weights, fixtureWeights(W16));
    expect(c.metadata).toMatchObject({ format: 'comi-vgg19', source: 'keras', preprocessing: PREPROCESSING.keras.description, origin: 'keras_notop.h5', originFormat: 'keras-hdf5', official: 'false' });
    expect(c.metadata.originSha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await importVggFile(fixture('keras_notop.h5'), { dir: cache })).unchanged).toBe(true);

    const t = await importVggFile(fixture('torchvision.pth'), { dir: cache });
    expect(t.path).toBe(join(cache, 'vgg19-torchvision.safetensors'));
    expect(readdirSync(cache).sort()).toEqual(['vgg19-keras.safetensors', 'vgg19-torchvision.safetensors']);
    // Another torchvision file must not silently replace the cached one.
    expect(await fail(importVggFile(fixture('torchvision_legacy.pth'), { dir: cache }))).toBe(
      `${t.path} already holds torchvision weights from torchvision.pth; pass --overwrite to replace them with torchvision_legacy.pth`,
    );
    const o = await importVggFile(fixture('torchvision_legacy.pth'), { dir: cache, overwrite: true });
    expect(readSafetensors(o.path).metadata.origin).toBe('torchvision_legacy.pth');
  });

  it('a cache file copied from another machine imports with its provenance', async () => {
    const a = join(dir, 'a');
    const first = await importVggFile(fixture('keras2_model.h5'), { dir: a });
    const copy = join(dir, 'copied.safetensors');
    copyFileSync(first.path, copy);
    const b = join(dir, 'b');
    const r = await importVggFile(copy, { dir: b });
    expect(r.source).toBe('keras');
    expect(readSafetensors(r.path).metadata).toEqual(readSafetensors(first.path).metadata);
    expectSameWeights(readVggCache(r.path, 'keras').weights, fixtureWeights(W32));
  });

  it('a damaged cache file names itself and the way to replace it', () => {
    const path = join(dir, 'vgg19-keras.safetensors');
    writeFileSync(path, Buffer.alloc(100));
    expect(() => readVggCache(path, 'keras')).toThrow(
      `cached weights ${path} are unusable (not a safetensors file (bad header length)); delete the file and run \`comi weights fetch vgg19 --source keras\` or \`comi weights import FILE\` again`,
    );
  });

  it('lives under $COMI_CACHE/weights when set', () => {
    const old = process.env.COMI_CACHE;
    process.env.COMI_CACHE = dir;
    try {
      expect(defaultWeightsDir()).toBe(join(dir, 'weights'));
    } finally {
      if (old === undefined) delete process.env.COMI_CACHE;
      else process.env.COMI_CACHE = old;
    }
  });
});

describe('training without cached weights', () => {
  it('stops before any GPU work with one line naming both commands and --vgg random', async () => {
    for (const source of ['keras', 'torchvision'] as const) {
      const err = await loadVggFeatures({ source, cacheDir: dir }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(VggWeightsMissingError);
      const msg = (err as Error).message;
      expect(msg).not.toContain('\n');
      expect(msg).toContain(`no ${source} VGG19 weights at ${join(dir, `vgg19-${source}.safetensors`)}`);
      expect(msg).toContain(`comi weights fetch vgg19 --source ${source}`);
      expect(msg).toContain('comi weights import FILE');
      expect(msg).toContain('--vgg random');
    }
  });

  it('bad layer lists are refused before loading anything', async () => {
    expect(await fail(loadVggFeatures({ source: 'keras', layers: ['relu3_5'], cacheDir: dir }))).toMatch(/^vgg19: unknown layer 'relu3_5'; layers are relu1_1, relu1_2, relu2_1, .*relu5_4, conv1_1, .*conv5_4$/);
    expect(await fail(loadVggFeatures({ source: 'keras', layers: [], cacheDir: dir }))).toBe('vgg19: give at least one layer, e.g. relu3_3');
    expect(await fail(loadVggFeatures({ source: 'keras', layers: ['relu1_1', 'relu1_1'], cacheDir: dir }))).toBe('vgg19: layer list relu1_1, relu1_1 repeats a layer');
  });
});
