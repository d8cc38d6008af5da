// File formats without a GPU: torch.save (zip, deflated zip, pre-1.6 stream), the pickle reader, Keras HDF5 (both
// layouts), each checked value for value against the weights the fixture script drew from seeds.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { readTorchStateDict } from '../../src/weights/torch.js';
import { unpickle, PyGlobal } from '../../src/weights/pickle.js';
import { ZipArchive } from '../../src/weights/zip.js';
import { readVggWeightFile, VGG_CONVS } from '../../src/weights/vgg19.js';
import { fixture, fixtureWeights, expectSameWeights, W16, W32 } from './helpers.js';

describe('torch.save files', () => {
  it('the zip format reads every conv of the state dict and leaves the classifier unread', () => {
    const sd = readTorchStateDict(readFileSync(fixture('torchvision.pth')), 'torchvision.pth');
    expect([...sd.keys()]).toHaveLength(32 + 6);
    expect(sd.get('classifier.0.weight')?.shape).toEqual([4, 16 * 49]);
    const ref = fixtureWeights(W32);
    for (const c of VGG_CONVS) {
      const w = sd.get(`${c.torchvision}.weight`)!;
      expect(w.storageType).toBe('FloatStorage');
      expectSameWeights({ w: { shape: w.shape, data: w.read() } }, { w: ref[`${c.name}.weight`] });
    }
  });

  it('the pre-1.6 stream with torch 0.3 tensors (as vgg19-dcbb9e9d.pth) and a deflated zip read as the zip does', () => {
    const zip = readTorchStateDict(readFileSync(fixture('torchvision.pth')), 'zip');
    for (const name of ['torchvision_legacy.pth', 'torchvision_deflate.pth']) {
      const other = readTorchStateDict(readFileSync(fixture(name)), name);
      expect([...other.keys()], name).toEqual([...zip.keys()]);
      for (const [k, t] of zip) {
        expect(other.get(k)!.shape, `${name} ${k}`).toEqual(t.shape);
        expect(other.get(k)!.read(), `${name} ${k}`).toEqual(t.read());
      }
    }
  });

  it('views sharing one storage (strides, offsets) in the stream of torch 0.4–1.5 read as PyTorch indexes them', () => {
    const sd = readTorchStateDict(readFileSync(fixture('views_stream.pth')), 'views');
    const w = fixtureWeights(W32)['conv1_1.weight']; // [2, 3, 3, 3]
    const at = (o: number, i: number, y: number, x: number) => w.data[((o * 3 + i) * 3 + y) * 3 + x];
    const permuted = new Float32Array(54); // w.permute(1, 0, 3, 2): [3, 2, 3, 3]
    for (let i = 0; i < 3; i++) for (let o = 0; o < 2; o++) for (let x = 0; x < 3; x++) for (let y = 0; y < 3; y++) permuted[((i * 2 + o) * 3 + x) * 3 + y] = at(o, i, y, x);
    const cases: [string, number[], Float32Array][] = [['weight', [2, 3, 3, 3], w.data], ['permuted', [3, 2, 3, 3], permuted], ['second', [3, 3, 3], w.data.slice(27)]];
    for (const [name, shape, data] of cases) {
      expect(sd.get(name)!.shape, name).toEqual(shape);
      expectSameWeights({ [name]: { shape, data: sd.get(name)!.read() } }, { [name]: { shape, data } });
    }
  });

  it('a truncated file or a corrupted storage is named, never read as weights', () => {
    const bytes = readFileSync(fixture('torchvision.pth'));
    expect(() => readTorchStateDict(bytes.subarray(0, bytes.length >> 1), 'half.pth')).toThrow(/^half\.pth: not a zip archive, or truncated/);
    const legacy = readFileSync(fixture('torchvision_legacy.pth'));
    expect(() => readTorchStateDict(legacy.subarray(0, legacy.length - 100), 'cut.pth')).toThrow(/^cut\.pth: truncated \(storage \w+ cut short\)/);
    // Flip one byte inside the first tensor's data entry: its CRC no longer matches.
    const zip = new ZipArchive(bytes, 'x');
    const entry = [...zip.entries.values()].find((e) => e.name.endsWith('/data/0'))!;
    const damaged = Uint8Array.from(bytes);
    const v = new DataView(damaged.buffer);
    const start = entry.localOffset + 30 + v.getUint16(entry.localOffset + 26, true) + v.getUint16(entry.localOffset + 28, true);
    damaged[start + 5] ^= 0xff;
    expect(() => readTorchStateDict(damaged, 'bad.pth').get('features.0.weight')!.read()).toThrow(/^bad\.pth: entry .*\/data\/0 is corrupt \(size or CRC mismatch\)/);
  });
});

describe('pickle reader', () => {
  // \x80\x02 c os\nsystem\n X'ls' \x85 R . — a pickle that would run a shell command under Python's pickle.
  const evil = Uint8Array.from([0x80, 0x02, ...Buffer.from('cos\nsystem\n'), 0x58, 2, 0, 0, 0, ...Buffer.from('ls'), 0x85, 0x52, 0x2e]);

  it('hands every call to the caller instead of resolving code', () => {
    const calls: string[] = [];
    const { value, end } = unpickle(evil, 0, { call: (fn, args) => (calls.push(`${fn}(${args.join()})`), 'refused'), persistentLoad: () => null }, 'evil');
    expect(calls).toEqual(['os.system(ls)']);
    expect(value).toBe('refused');
    expect(end).toBe(evil.length);
  });

  it('a checkpoint calling anything but tensor and dict builders is rejected by name', () => {
    expect(() => readTorchStateDict(evil, 'evil.pth')).toThrow(/^evil\.pth: unexpected os\.system in the checkpoint header/);
  });

  it('reads the basic values', () => {
    // {'a': [1, -2, 3.5, None, True], 'b': (300, 70000)} with protocol 2 opcodes, and a LONG1 above 2^53.
    const bytes = Uint8Array.from([
      0x80, 0x02, 0x7d, 0x28, 0x58, 1, 0, 0, 0, 0x61, 0x5d, 0x28, 0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff,
      0x47, 0x40, 0x0c, 0, 0, 0, 0, 0, 0, 0x4e, 0x88, 0x65, 0x58, 1, 0, 0, 0, 0x62, 0x4d, 0x2c, 0x01,
      0x4a, 0x70, 0x11, 0x01, 0x00, 0x86, 0x75, 0x2e,
    ]);
    const { value } = unpickle(bytes, 0, { call: () => null, persistentLoad: () => null }, 't');
    expect(value).toEqual(new Map<string, unknown>([['a', [1, -2, 3.5, null, true]], ['b', [300, 70000]]]));
    const big = unpickle(Uint8Array.from([0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2e]), 0, { call: () => null, persistentLoad: () => null }, 't');
    expect(big.value).toBe(1n << 64n);
    expect(new PyGlobal('torch', 'FloatStorage').toString()).toBe('torch.FloatStorage');
  });
});

describe('Keras HDF5 files', () => {
  it('the notop layout (Keras 1 dataset names) converts to the same weights the fixture drew', async () => {
    const r = await readVggWeightFile(fixture('keras_notop.h5'));
    expect(r.source).toBe('keras');
    expect(r.format).toBe('keras-hdf5');
    expect(r.widths).toEqual([4, 4, 8, 8, 16, 16, 16, 16, 32, 32, 32, 32, 32, 32, 32, 32]);
    expectSameWeights(r.weights, fixtureWeights(W16));
  });

  it('a Keras 2 whole-model file (model_weights/…/kernel:0) reads the same way', async () => {
    const r = await readVggWeightFile(fixture('keras2_model.h5'));
    expect(r.source).toBe('keras');
    expectSameWeights(r.weights, fixtureWeights(W32));
  });

  it('torchvision files of both formats convert to the fixture weights', async () => {
    for (const name of ['torchvision.pth', 'torchvision_legacy.pth', 'torchvision_deflate.pth']) {
      const r = await readVggWeightFile(fixture(name));
      expect(r.source, name).toBe('torchvision');
      expect(r.format, name).toBe('torch');
      expectSameWeights(r.weights, fixtureWeights(W32));
    }
  });
});
