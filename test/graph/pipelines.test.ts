// The runtime's pipeline cache (src/graph/runtime.ts): one pipeline per kernel and set of constant values, whatever
// order a caller writes the constants in.
import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { rt } from '../../src/graph/runtime.js';
import { defineKernel } from '../../src/graph/kernel.js';

useGpu();

// binary.wgsl with a second, unused snippet: two constants whose values could run together in a key.
const BINARY = defineKernel({
  shader: 'binary',
  params: { n: 'u32' },
  bindings: { a: 'read', b: 'read', out: 'read_write' },
  consts: { OP: 'code', NOTE: 'code' },
  entry: 'elementwise',
});

describe('pipeline cache', () => {
  it('makes one pipeline per set of constant values, in any order', () => {
    const r = rt();
    const before = r.pipelineCount;
    const plus = r.pipeline(BINARY, { OP: '+', NOTE: 'a' });
    expect(r.pipeline(BINARY, { NOTE: 'a', OP: '+' })).toBe(plus);
    expect(r.pipelineCount).toBe(before + 1);
    const minus = r.pipeline(BINARY, { OP: '-', NOTE: 'a' });
    expect(minus).not.toBe(plus);
    // Values that run together alike ('+ 0.0 +' 'a' against '+' ' 0.0 +a') are still two sets.
    const split1 = r.pipeline(BINARY, { OP: '+ 0.0 +', NOTE: 'a' });
    const split2 = r.pipeline(BINARY, { OP: '+', NOTE: ' 0.0 +a' });
    expect(split1).not.toBe(split2);
    expect(r.pipelineCount).toBe(before + 4);
  });
});
