// The Node host's polling throttle: only Dawn's own callbacks are delayed, everything else keeps setImmediate
// (clearImmediate cancels it), and releasing the runtime restores the global.
import { describe, it, expect } from 'vitest';
import { initGpu, releaseRuntime } from '../../src/graph/runtime.js';
import { Tensor } from '../../src/graph/tensor.js';

describe('Node host: polling throttle', () => {
  it('leaves other callers to setImmediate, works with GPU reads, and is undone by releaseRuntime', async () => {
    const original = globalThis.setImmediate;
    await initGpu();
    expect(globalThis.setImmediate).not.toBe(original);
    let ran = false;
    const handle = setImmediate(() => (ran = true));
    expect(handle).toHaveProperty('hasRef'); // an Immediate, not a Timeout
    clearImmediate(handle);
    await new Promise((r) => setImmediate(r)); // a promise's resolve (native) is not delayed or lost
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(false);
    const t = Tensor.fromArray(new Float32Array([1, 2, 3]), [3]);
    expect(Array.from(await t.data())).toEqual([1, 2, 3]); // Dawn's polling still completes the map
    t.dispose();
    await releaseRuntime();
    expect(globalThis.setImmediate).toBe(original);
    await initGpu(); // a new device after release
    const u = Tensor.fromArray(new Float32Array([4]), [1]);
    expect(Array.from(await u.data())).toEqual([4]);
    u.dispose();
  });
});
