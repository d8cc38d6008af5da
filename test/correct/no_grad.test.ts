// Layer-major correction is inference: nothing it runs is recorded on the tape, even with the generator's weights
// requiring gradients (as a loaded run's do). A recorded conv output keeps its input window alive for the backward, and
// the default tiles keep conv outputs as the map's bands, so a record would hold every window as long as its map.
import { describe, it, expect, vi } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { correctPlanes } from '../../src/correct/tiled.js';
import * as tape from '../../src/autograd/tape.js';
import { testGenerator, testImage } from './helpers.js';

vi.mock('../../src/autograd/tape.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/autograd/tape.js')>();
  return { ...real, record: vi.fn(real.record) };
});

useGpu();

describe('layer-major correction and the tape', () => {
  it('records no grad node, with weights that require gradients', async () => {
    const gen = testGenerator({ ngf: 4, blocks: 2, globalResidual: true });
    expect(gen.layers.stem.weight.requiresGrad).toBe(true);
    const real = await vi.importActual<typeof tape>('../../src/autograd/tape.js');
    let calls = 0;
    let nodes = 0;
    // Counted when made: disposing a tensor drops its node.
    vi.mocked(tape.record).mockImplementation((...args) => {
      const out = real.record(...args);
      calls++;
      if (out.node) nodes++;
      return out;
    });
    await correctPlanes(gen, testImage(3, 72, 56, 5), 3, 72, 56, { tile: 60 });
    // Ops are called (convs, tanh, the global residual's add) but none gets a node.
    expect(calls).toBeGreaterThan(10);
    expect(nodes).toBe(0);
    gen.dispose();
  });
});
