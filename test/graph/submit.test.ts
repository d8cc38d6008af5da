// How a step's recording reaches the GPU: in chunks, the first small so that the GPU, idle since the last flush,
// starts early, then doubling to 128 dispatches.
import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { rt } from '../../src/graph/runtime.js';
import { add } from '../../src/kernels/binary.js';

useGpu();

describe('submitting a recording', () => {
  it('after a flush, submits after 16, 32, 64, then every 128 dispatches; a flush starts over', async () => {
    const r = rt();
    const a = Tensor.fromArray(Float32Array.of(1, 2, 3, 4), [4]);
    const submitsAt = async (dispatches: number): Promise<number[]> => {
      await a.data(); // a flush: a new step
      const at: number[] = [];
      for (let i = 1; i <= dispatches; i++) {
        const before = r.submitCount;
        const d = r.dispatchCount;
        scope(() => add(a, a));
        expect(r.dispatchCount - d).toBe(1);
        if (r.submitCount !== before) at.push(i);
      }
      return at;
    };
    expect(await submitsAt(400)).toEqual([16, 48, 112, 240, 368]);
    expect(await submitsAt(20)).toEqual([16]);
    a.dispose();
  });
});
