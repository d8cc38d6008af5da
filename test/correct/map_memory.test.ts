// Running out of GPU memory during exact (layer-major) correction: the maps are whole-image sized whatever the tile,
// so each retry also keeps only half of what the maps held on the GPU, the rest in host memory. The allocation
// failure is simulated (a real one needs a GPU that runs out): correctLayerMajor throws once, as its error scope would.
import { describe, it, expect, vi } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { correctPlanes } from '../../src/correct/tiled.js';
import * as layerMajor from '../../src/correct/layer_major.js';
import { testGenerator, testImage } from './helpers.js';

vi.mock('../../src/correct/layer_major.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/correct/layer_major.js')>();
  return { ...real, correctLayerMajor: vi.fn(real.correctLayerMajor) };
});

useGpu();

const MIB = 2 ** 20;

/** A small generator and RGB image, and correctLayerMajor failing (once or always) as if `mapBytes` of maps had
 * filled the GPU. */
function failingRun(H: number, W: number, mapBytes: number, when: 'once' | 'always') {
  const run = vi.mocked(layerMajor.correctLayerMajor);
  run.mockClear();
  const fail = async (): Promise<never> => {
    throw new layerMajor.MapMemoryError('out of GPU memory: simulated', mapBytes);
  };
  if (when === 'once') run.mockImplementationOnce(fail);
  else run.mockImplementation(fail);
  return { gen: testGenerator({ ngf: 4, blocks: 1 }), x: testImage(3, H, W, H + W), C: 3, H, W, run };
}

describe('out of GPU memory in exact correction', () => {
  it('retries with half the maps on the GPU (and half the tile), with the same result', async () => {
    const { gen, x, C, H, W, run } = failingRun(96, 80, 100 * MIB, 'once');
    const r = await correctPlanes(gen, x, C, H, W, { tile: 48 });
    expect(run).toHaveBeenCalledTimes(2);
    expect(run.mock.calls[0][9]).toBe(Infinity);
    expect(run.mock.calls[1][9]).toBe(50 * MIB);
    expect(run.mock.calls[1][5]).toEqual({ height: 24, width: 24 });
    expect(r.retries).toBe(1);
    expect(r.mapMemory).toBe(50 * MIB);
    // This small image's maps fit 50 MiB: nothing moved, and the result is that of 24-pixel tiles.
    expect(r.spills).toBe(0);
    const at24 = await correctPlanes(gen, x, C, H, W, { tile: 24 });
    expect(Array.from(r.output)).toEqual(Array.from(at24.output));
    gen.dispose();
  });

  it('keeps tiles as wide as the image (the default) as wide, with half the rows', async () => {
    const { gen, x, C, H, W, run } = failingRun(96, 80, 100 * MIB, 'once');
    const r = await correctPlanes(gen, x, C, H, W);
    expect(run.mock.calls.map((c) => c[5])).toEqual([{ height: 96, width: 80 }, { height: 48, width: 80 }]);
    expect([r.tile, r.tileWidth, r.tiles]).toEqual([48, 80, 2]);
    gen.dispose();
  });

  it('stops with one message once neither the tile nor the maps can shrink', async () => {
    const { gen, x, C, H, W, run } = failingRun(48, 48, 20 * MIB, 'always');
    try {
      await expect(correctPlanes(gen, x, C, H, W, { tile: 4 })).rejects.toThrow(/out of GPU memory: simulated \(even with the smallest tile, 4 pixels, for this model, and the maps in host memory\)/);
      // 20 MiB of maps: one retry at 10 MiB would be under the 16 MiB floor, so the first failure is the last.
      expect(run).toHaveBeenCalledTimes(1);
    } finally {
      run.mockReset();
      gen.dispose();
    }
  });
});
