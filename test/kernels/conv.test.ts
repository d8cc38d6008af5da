import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, inputData } from '../helpers/oracle.js';
import { convOracleCase } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { hashUniform } from '../../src/graph/random.js';
import { rt } from '../../src/graph/runtime.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { backward } from '../../src/autograd/tape.js';
import { Adam } from '../../src/autograd/adam.js';
import { conv2d } from '../../src/kernels/conv2d.js';
import { convTranspose2d } from '../../src/kernels/conv_transpose2d.js';
import { convTiling, setConvTiling, weightAndBiasGrad, directGather, inputGrad, weightGrad, gradientVariants, sharedGradientOperands, type ConvTiling } from '../../src/kernels/conv_gemm.js';
import { setWinogradOperandLimit } from '../../src/kernels/conv_winograd.js';
import { f16Data, f16Round, f16Tensor, f16Ulp, skipWithoutF16 } from '../helpers/f16.js';

useGpu();

/** Runs `fn` with every convolution forced to tiling `t` (null: none), then restores the tiling it found. */
async function withTiling<T>(t: ConvTiling | null, fn: () => Promise<T>): Promise<T> {
  const before = convTiling();
  setConvTiling(t);
  try {
    return await fn();
  } finally {
    setConvTiling(before);
  }
}

describe('conv2d / convTranspose2d against PyTorch (float64 reference)', () => {
  for (const name of fixtureCases('conv')) it(name, () => convOracleCase(name));
});

describe('conv: every strategy and register tiling agrees with PyTorch (also item by item, gradients accumulated in the kernels)', () => {
  const tilings: ConvTiling[] = [{ tm: 4, tn: 4 }, { tm: 2, tn: 8 }, { tm: 8, tn: 2 }, { tm: 8, tn: 8 }, { tm: 16, tn: 8, wg: 8 }, { tm: 4, tn: 32 }, { tm: 8, tn: 1 }, { tm: 16, tn: 8, strategy: 'rows' }, { tm: 2, tn: 8, wg: 8, strategy: 'rows' }, { tm: 4, tn: 4, strategy: 'tiles' }, { tm: 8, tn: 8, strategy: 'tiles' }, { tm: 8, tn: 4, strategy: 'tiles', splitK: 3 }, { tm: 4, tn: 8, strategy: 'tiles', splitK: 2 }, { tm: 8, tn: 8, splitK: 2 }, { tm: 4, tn: 4, splitK: 3 }, { tm: 8, tn: 8, foldPass: true }, { tm: 4, tn: 4, splitK: 3, foldPass: true }, { tm: 8, tn: 8, staged: true }, { tm: 16, tn: 8, wg: 8, splitK: 3, staged: true }, { tm: 4, tn: 4, splitK: 2, foldPass: true, staged: true }];
  for (const t of tilings) {
    it(`${t.strategy ?? 'registers'} ${t.tm}×${t.tn}${t.wg ? ` wg ${t.wg}` : ''}${t.splitK ? `, split-K ${t.splitK}` : ''}${t.foldPass ? ', fold pass' : ''}${t.staged ? ', staged' : ''}`, () => withTiling(t, async () => {
      // Non-square kernels (k3x5, k2x3): the gathers' kernel size read at run time, not a compile-time constant.
      for (const name of ['conv2d_odd', 'conv2d_k5_stride3', 'conv_transpose2d_k3_stride3_op2', 'conv_transpose2d_stride2_op1', 'conv2d_reflect_block', 'conv2d_reflect_k7_head', 'conv2d_reflect_stride2', 'conv2d_reflect_k7_narrow', 'conv2d_reflect_stride2_narrow', 'conv2d_k3x5', 'conv2d_reflect_k3x5', 'conv_transpose2d_k2x3_stride2']) {
        await convOracleCase(name);
      }
      // Batch items one at a time: gradients added inside the kernels (every strategy's accumulating variant).
      for (const name of ['conv2d_odd', 'conv2d_k5_stride3', 'conv_transpose2d_stride2_op1', 'conv2d_reflect_block']) {
        await convOracleCase(name, 'itemwise');
      }
      // x convolved twice: the reflect-padded input gradient (folded in the kernels) added to an earlier one.
      for (const name of ['conv2d_reflect_block', 'conv2d_reflect_k7_narrow', 'conv2d_reflect_stride2_narrow']) {
        await convOracleCase(name, 'twice');
      }
      // Weight and bias in an optimizer's arenas: read, and their gradients written and added, at an offset.
      await convOracleCase('conv2d_reflect_block', 'whole', true);
      await convOracleCase('conv2d_reflect_k7_head', 'itemwise', true);
      await convOracleCase('conv_transpose2d_stride2_op1', 'itemwise', true);
    }));
  }
});

describe('conv: workgroup-memory tiles agree with PyTorch on the generator\'s wide layers', () => {
  // 256 channels: 144 slices of k (the registers' prefetch across slices), two 128-channel blocks, the reduction
  // split over channel ranges; a stride-2 layer and a transposed one (the phase gather, mode 1).
  for (const t of [{ tm: 4, tn: 4, strategy: 'tiles' }, { tm: 8, tn: 8, strategy: 'tiles' }, { tm: 8, tn: 4, strategy: 'tiles', splitK: 5 }, { tm: 4, tn: 8, strategy: 'tiles', splitK: 2 }] as ConvTiling[]) {
    it(`${16 * t.tm}×${16 * t.tn} blocks${t.splitK ? `, split-K ${t.splitK}` : ''}`, () => withTiling(t, async () => {
      for (const name of ['conv2d_gen_block', 'conv2d_gen_down2', 'conv_transpose2d_gen_up1']) await convOracleCase(name);
      await convOracleCase('conv2d_gen_block', 'twice');
    }));
  }
  // Stride 2, zero padding: each phase's GEMM over its own taps (a quarter of a 3×3 kernel's products on average);
  // reflection padding: every tap, since the mirrors mix the phases.
  it('computes a stride-2 input gradient one phase at a time, except with reflection', ({ skip }) => withTiling({ tm: 4, tn: 4, strategy: 'tiles' }, async () => {
    const r = rt();
    if (!r.canTime) skip(`${r.gpu.adapterName} has no timestamp queries (the dispatches' labels come with their times)`);
    const labels: string[] = [];
    for (const paddingMode of ['zeros', 'reflect'] as const) {
      const x = Tensor.fromArray(inputData({ shape: [1, 4, 9, 9], seed: 31, scale: 1 }), [1, 4, 9, 9]);
      const w = Tensor.fromArray(inputData({ shape: [4, 4, 3, 3], seed: 32, scale: 1 }), [4, 4, 3, 3]);
      x.requiresGrad = true;
      const y = conv2d(x, w, null, { stride: 2, padding: 1, paddingMode });
      r.startTiming();
      backward(y, Tensor.fromArray(inputData({ shape: y.shape, seed: 33, scale: 1 }), y.shape));
      labels.push(...(await r.stopTiming()).map((t) => t.label).filter((l) => l.includes('MODE=1')));
      x.grad!.dispose();
      x.dispose();
      w.dispose();
    }
    expect(labels).toEqual([expect.stringMatching(/^conv_tiled MODE=1 .*PHASED/), expect.not.stringMatching(/PHASED/)]);
  }));
  it('refuses other per-invocation shapes in one line', () => withTiling({ tm: 16, tn: 8, strategy: 'tiles' }, async () => {
    await expect(convOracleCase('conv2d_odd')).rejects.toThrow(/workgroup-memory tiles take 4 or 8 rows and columns per invocation, not 16×8/);
  }));
});

describe('conv: Winograd F(2×2, 3×3) agrees with PyTorch on every 3×3 stride-1 layer (zero, reflection and no padding)', () => {
  // 4×4 with 8 invocations: tiles past the GEMMs' edges; 16×8: the tuned shape; F(4×4, 3×3) forwards (the gradients
  // stay F(2×2)); the GPUs' GEMMs in workgroup-memory tiles. The other cases run the registers.
  for (const t of [{ tm: 4, tn: 4, wg: 8, strategy: 'winograd' }, { tm: 16, tn: 8, strategy: 'winograd' }, { tm: 4, tn: 4, wg: 8, strategy: 'winograd', m: 4 }, { tm: 16, tn: 8, strategy: 'winograd', m: 4 }, { tm: 4, tn: 4, strategy: 'winograd', tiledGemm: true }, { tm: 8, tn: 8, strategy: 'winograd', tiledGemm: true, m: 4 }] as ConvTiling[]) {
    it(`GEMM tile ${t.tm}×${t.tn}${t.wg ? ` wg ${t.wg}` : ''}${t.tiledGemm ? ' in workgroup memory' : ''}${t.m ? ', F(4×4) forward and gradients together' : ''}`, () => withTiling(t, async () => {
      // Odd maps (7×9, 6×7: a last tile half outside), 256 channels unpadded, a transposed convolution's stride-1
      // input and weight gradients; then gradients added inside the kernels, twice-used inputs, arena slices.
      for (const name of ['conv2d_odd', 'conv2d_reflect_block', 'conv2d_gen_block', 'conv_transpose2d_stride1', 'conv2d_reflect_stride2']) {
        await convOracleCase(name);
      }
      for (const name of ['conv2d_odd', 'conv2d_reflect_block']) await convOracleCase(name, 'itemwise');
      await convOracleCase('conv2d_reflect_block', 'twice');
      await convOracleCase('conv2d_reflect_block', 'whole', true);
      await convOracleCase('conv2d_odd', 'itemwise', true);
    }));
  }
});

describe('conv: Winograd forwards in bands of tile rows (operands beyond the limit) agree with PyTorch', () => {
  // Operand limits (bytes) that fit some tile rows of a layer but not all: 4320, one row of the small maps (the odd
  // map's last one half outside); 9600, the odd map's F(2×2) in 3 + 1; 73728, the 256-channel block in rows of
  // one; 150000, its F(2×2) in 2 + 2. A layer whose one row exceeds the limit runs the registers, as do the
  // gradients (they need the whole map's operands within it).
  for (const m of [2, 4] as const) {
    it(`F(${m}×${m})`, async () => {
      for (const limit of [4320, 9600, 73728, 150000]) {
        setWinogradOperandLimit(limit);
        try {
          await withTiling({ tm: 4, tn: 4, wg: 8, strategy: 'winograd', m }, async () => {
            for (const name of ['conv2d_odd', 'conv2d_reflect_block', 'conv2d_gen_block']) await convOracleCase(name);
            await convOracleCase('conv2d_odd', 'itemwise');
          });
        } finally {
          setWinogradOperandLimit(null);
        }
      }
    });
  }

  it('a 64-channel 16² layer in bands equals it in one, band by band (3 dispatches a band: the first also transforms the filters)', async () => {
    const g = { N: 1, Cin: 64, H: 16, W: 16, Cout: 64, OH: 16, OW: 16, KH: 3, KW: 3, stride: 1, pad: 1, reflect: true };
    const x = Tensor.fromArray(inputData({ shape: [1, 64, 16, 16], seed: 34, scale: 1 }), [1, 64, 16, 16]);
    const w = Tensor.fromArray(inputData({ shape: [64, 64, 3, 3], seed: 35, scale: 1 }), [64, 64, 3, 3]);
    const b = Tensor.fromArray(inputData({ shape: [64], seed: 36, scale: 1 }), [64]);
    const forward = async (m: 2 | 4, limit: number | null) => {
      setWinogradOperandLimit(limit);
      try {
        return await withTiling({ tm: 16, tn: 8, strategy: 'winograd', m }, async () => {
          const y = Tensor.empty([1, 64, 16, 16]);
          const before = rt().dispatchCount;
          directGather(g, x.binding, w.binding, b.binding, y);
          const dispatches = rt().dispatchCount - before;
          const out = await y.data();
          y.dispose();
          return { out, dispatches };
        });
      } finally {
        setWinogradOperandLimit(null);
      }
    };
    // One tile row of the operands: (m + 2)² planes × 64 channels × 16 / m tiles × 4 bytes.
    for (const [m, rows, bands] of [[2, 3, 3], [4, 1, 4]] as const) {
      const whole = await forward(m, null);
      expect(whole.dispatches).toBe(3);
      const banded = await forward(m, rows * (m + 2) ** 2 * 64 * (16 / m) * 4);
      expect(banded.dispatches).toBe(3 * bands);
      expect(banded.out).toEqual(whole.out);
    }
  });
});

describe('conv: Winograd on a ResNet block\'s layer (64 channels, 16² maps: 8 and 4 tiles a side)', () => {
  // The fixtures' maps hold at most 3 tiles a side and their kernels few channels; here every GEMM, transform and
  // tile row is wider. Against the register tiles (themselves checked against PyTorch above): F(2×2) differs by ~1e-6
  // of the largest value, F(4×4) by ~5e-6 (fp32 rounding of its larger transforms; numpy: 5e-6 at 256 channels).
  it('forward F(2×2) and F(4×4), input and weight gradients F(2×2), register and workgroup-memory GEMMs, within 2e-5 of the largest value', async () => {
    const g = { N: 1, Cin: 64, H: 16, W: 16, Cout: 64, OH: 16, OW: 16, KH: 3, KW: 3, stride: 1, pad: 1, reflect: true };
    const x = Tensor.fromArray(inputData({ shape: [1, 64, 16, 16], seed: 31, scale: 1 }), [1, 64, 16, 16]);
    const w = Tensor.fromArray(inputData({ shape: [64, 64, 3, 3], seed: 32, scale: 1 }), [64, 64, 3, 3]);
    const dy = Tensor.fromArray(inputData({ shape: [1, 64, 16, 16], seed: 33, scale: 1 }), [1, 64, 16, 16]);
    const run = (t: ConvTiling) => withTiling(t, async () => {
      const y = Tensor.empty([1, 64, 16, 16]);
      directGather(g, x.binding, w.binding, null, y);
      const dx = Tensor.empty([1, 64, 16, 16]);
      inputGrad(g, dy.binding, w.binding, dx);
      const dw = weightGrad(g, x.binding, dy.binding);
      const out = [await y.data(), await dx.data(), await dw.data()];
      for (const t of [y, dx, dw]) t.dispose();
      return out;
    });
    const direct = await run({ tm: 16, tn: 8 });
    for (const t of [{ tm: 16, tn: 8, strategy: 'winograd' }, { tm: 16, tn: 8, strategy: 'winograd', m: 4 }, { tm: 8, tn: 8, strategy: 'winograd', tiledGemm: true }, { tm: 4, tn: 8, strategy: 'winograd', tiledGemm: true, m: 4 }] as ConvTiling[]) {
      const ours = await run(t);
      direct.forEach((ref, k) => {
        const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const err = ref.reduce((m, v, i) => Math.max(m, Math.abs(v - ours[k][i])), 0) / scale;
        expect(err, `${JSON.stringify(t)} ${['forward', 'input grad', 'weight grad'][k]}`).toBeLessThanOrEqual(2e-5);
      });
    }
  });
});

describe('conv: a ResNet block\'s gradients together in F(4×4, 3×3) (64 channels, 16² maps: 4 tiles a side)', () => {
  // Against the register tiles: within 2e-5 of the largest value, as the forwards above (fp32 rounding of the larger
  // transforms); in 3 dispatches (operands, both GEMMs, both inverse transforms), bias gradient included.
  it('dx, dw and db within 2e-5 of the largest value, in 3 dispatches', async () => {
    const rand = (shape: number[], seed: number) => Tensor.fromArray(inputData({ shape, seed, scale: 1 }), shape);
    const run = (t: ConvTiling) => withTiling(t, async () => {
      const [x, w, b] = [rand([1, 64, 16, 16], 61), rand([64, 64, 3, 3], 62), rand([64], 63)];
      for (const p of [x, w, b]) p.requiresGrad = true;
      const y = conv2d(x, w, b, { padding: 1, paddingMode: 'reflect' });
      const before = rt().dispatchCount;
      backward(y, rand([1, 64, 16, 16], 64));
      const dispatches = rt().dispatchCount - before;
      const grads = [await x.grad!.data(), await w.grad!.data(), await b.grad!.data()];
      for (const p of [x, w, b, y]) p.dispose();
      return { dispatches, grads };
    });
    const direct = await run({ tm: 16, tn: 8 });
    const four = await run({ tm: 16, tn: 8, strategy: 'winograd', m: 4 });
    expect(four.dispatches).toBe(3);
    direct.grads.forEach((ref, k) => {
      const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const err = ref.reduce((m, v, i) => Math.max(m, Math.abs(v - four.grads[k][i])), 0) / scale;
      expect(err, ['dx', 'dw', 'db'][k]).toBeLessThanOrEqual(2e-5);
    });
  });
});

describe('conv: a layer\'s Winograd gradients together: operands, GEMMs and inverse transforms one dispatch each', () => {
  // The same kernels' arithmetic in every arrangement (each output's sum over the same terms in the same order), so
  // the gradients must be equal bit for bit; the counts are what the fusions are for.
  it('conv2d backward: 3 dispatches; with shared operands only, 1 + 2 per gradient; all equal to the gradients computed apart', () => withTiling({ tm: 16, tn: 8, strategy: 'winograd' }, async () => {
    const g = { N: 2, Cin: 6, H: 9, W: 7, Cout: 5, OH: 9, OW: 7, KH: 3, KW: 3, stride: 1, pad: 1, reflect: true };
    const rand = (shape: number[], seed: number) => Tensor.fromArray(inputData({ shape, seed, scale: 1 }), shape);
    const x = rand([2, 6, 9, 7], 41);
    const w = rand([5, 6, 3, 3], 42);
    const dy = rand([2, 5, 9, 7], 43);
    x.requiresGrad = true;
    w.requiresGrad = true;
    const y = conv2d(x, w, null, { padding: 1, paddingMode: 'reflect' });
    const r = rt();
    let before = r.dispatchCount;
    backward(y, dy);
    expect(r.dispatchCount - before).toBe(3);
    before = r.dispatchCount;
    const shared = sharedGradientOperands(gradientVariants(g, x.binding, dy.binding, w.binding, true, true), x.binding, w.binding);
    const dxShared = Tensor.empty(x.shape);
    inputGrad(g, dy.binding, w.binding, dxShared, false, shared);
    const dwShared = weightGrad(g, x.binding, dy.binding, null, shared);
    shared.dispose();
    expect(r.dispatchCount - before).toBe(5);
    const dx = Tensor.empty(x.shape);
    inputGrad(g, dy.binding, w.binding, dx);
    const dw = weightGrad(g, x.binding, dy.binding);
    for (const [ours, apart] of [[x.grad!, dx], [dxShared, dx], [w.grad!, dw], [dwShared, dw]]) {
      expect(Array.from(await ours.data())).toEqual(Array.from(await apart.data()));
    }
    for (const t of [x, w, dy, dx, dw, dxShared, dwShared]) t.dispose();
  }));
});

describe('conv: a layer\'s Winograd gradients whose operands fill a binding each run apart', () => {
  it('5 dispatches, equal bit for bit to the pair\'s gradients', () => withTiling({ tm: 16, tn: 8, strategy: 'winograd' }, async () => {
    const rand = (shape: number[], seed: number) => Tensor.fromArray(inputData({ shape, seed, scale: 1 }), shape);
    const gradients = (limit: number | null) => {
      const x = rand([2, 6, 9, 7], 44);
      const w = rand([6, 6, 3, 3], 45);
      x.requiresGrad = true;
      w.requiresGrad = true;
      setWinogradOperandLimit(limit);
      try {
        const y = conv2d(x, w, null, { padding: 1, paddingMode: 'reflect' });
        const before = rt().dispatchCount;
        backward(y, rand([2, 6, 9, 7], 46));
        return { dispatches: rt().dispatchCount - before, dx: x.grad!, dw: w.grad! };
      } finally {
        setWinogradOperandLimit(null);
      }
    };
    // The largest operand (16 planes × 6 channels × 5 × 4 tiles × 2 items, 4 bytes each) exactly at the limit: each
    // fits, the three together do not fit twice that.
    const apart = gradients(16 * 6 * 5 * 4 * 2 * 4);
    const together = gradients(null);
    expect([apart.dispatches, together.dispatches]).toEqual([5, 3]);
    for (const k of ['dx', 'dw'] as const) expect(Array.from(await apart[k].data())).toEqual(Array.from(await together[k].data()));
  }));
});

describe('conv: a split weight gradient adds its weight and bias slices in one dispatch where both lie in an arena', () => {
  // The same slices summed in the same order, into adjacent ranges of one buffer or into two tensors: equal bit for
  // bit; the count is what the merge is for (the register tiles split an 8-row, 6-channel layer on every adapter).
  it('1 kernel + 1 sum in an optimizer\'s arena, 1 + 2 apart; the gradients equal', () => withTiling({ tm: 8, tn: 8 }, async () => {
    const g = { N: 1, Cin: 4, H: 8, W: 8, Cout: 6, OH: 8, OW: 8, KH: 3, KW: 3, stride: 1, pad: 1 };
    const rand = (shape: number[], seed: number) => Tensor.fromArray(inputData({ shape, seed, scale: 1 }), shape);
    const x = rand([1, 4, 8, 8], 51);
    const w = rand([6, 4, 3, 3], 52);
    const b = rand([6], 53);
    const dy = rand([1, 6, 8, 8], 54);
    w.requiresGrad = true;
    b.requiresGrad = true;
    const optimizer = new Adam([w, b], { lr: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const y = conv2d(x, w, b, { padding: 1 });
    const r = rt();
    let before = r.dispatchCount;
    backward(y, dy);
    expect(r.dispatchCount - before).toBe(2);
    before = r.dispatchCount;
    const [dw, db] = weightAndBiasGrad(g, x.binding, dy);
    expect(r.dispatchCount - before).toBe(3);
    expect(Array.from(await w.grad!.data())).toEqual(Array.from(await dw.data()));
    expect(Array.from(await b.grad!.data())).toEqual(Array.from(await db.data()));
    optimizer.dispose();
    for (const t of [x, w, b, dy, y, dw, db]) t.dispose();
  }));
});

describe('conv2d: f16 maps (training\'s f16 storage), read into f32 and written rounded', () => {
  // An f16 map holds exactly the f16 rounding of its values and every kernel reads it into f32, so each strategy
  // must give bit for bit what it gives on an f32 map of the rounded values: forward, input, weight and bias gradients.
  // An f16 output is the f32 output rounded once (either f16 neighbour: WGSL lets either be chosen; split-K rounds
  // the sum of its slices); the backward never reads it, so the gradients stay equal bit for bit.
  const layers = [
    { name: '3×3 reflect (a block\'s)', x: [2, 6, 9, 7], w: [5, 6, 3, 3], opts: { padding: 1, paddingMode: 'reflect' as const } },
    { name: '3×3 stride 2 (a down layer\'s)', x: [1, 4, 9, 8], w: [6, 4, 3, 3], opts: { stride: 2, padding: 1 } },
    { name: '7×7 reflect (the head\'s)', x: [1, 4, 8, 9], w: [3, 4, 7, 7], opts: { padding: 3, paddingMode: 'reflect' as const } },
  ];
  const tilings: ConvTiling[] = [{ tm: 8, tn: 8 }, { tm: 16, tn: 8, wg: 8 }, { tm: 8, tn: 8, staged: true }, { tm: 4, tn: 4, splitK: 2 }, { tm: 4, tn: 4, strategy: 'tiles' }, { tm: 8, tn: 8, strategy: 'tiles', splitK: 2 }, { tm: 16, tn: 8, strategy: 'rows' }, { tm: 16, tn: 8, strategy: 'winograd' }, { tm: 16, tn: 8, strategy: 'winograd', m: 4 }, { tm: 8, tn: 8, strategy: 'winograd', m: 4, tiledGemm: true }];
  for (const t of tilings) {
    it(`${t.strategy ?? 'registers'} ${t.tm}×${t.tn}${t.wg ? ` wg ${t.wg}` : ''}${t.splitK ? `, split-K ${t.splitK}` : ''}${t.staged ? ', staged' : ''}${t.m ? `, F(${t.m}×${t.m})` : ''}${t.tiledGemm ? ', tiled GEMM' : ''}`, (ctx) => withTiling(t, async () => {
      skipWithoutF16(ctx);
      for (const [k, l] of layers.entries()) {
        const values = Float32Array.from(inputData({ shape: l.x, seed: 50 + k, scale: 1 }), f16Round);
        const w = Tensor.fromArray(inputData({ shape: l.w, seed: 60 + k, scale: 1 }), l.w);
        const b = Tensor.fromArray(inputData({ shape: [l.w[0]], seed: 70 + k, scale: 1 }), [l.w[0]]);
        w.requiresGrad = b.requiresGrad = true;
        const run = async (x: Tensor, storage: 'f32' | 'f16' = 'f32') => {
          x.requiresGrad = true;
          const y = conv2d(x, w, b, { ...l.opts, storage });
          const dy = Tensor.fromArray(inputData({ shape: y.shape, seed: 80 + k, scale: 1 }), y.shape);
          const out = storage === 'f16' ? await f16Data(y) : await y.data();
          backward(y, dy);
          const grads = [out, await x.grad!.data(), await w.grad!.data(), await b.grad!.data()].map((a) => Array.from(a));
          for (const v of [x, dy, w.grad!, b.grad!]) v.dispose();
          w.grad = b.grad = null;
          return grads;
        };
        const f32 = await run(Tensor.fromArray(values, l.x));
        const f16 = await run(f16Tensor(values, l.x));
        f32.forEach((ref, i) => expect(f16[i], `${l.name}: ${['y', 'dx', 'dw', 'db'][i]}`).toEqual(ref));
        const [y16, ...grads16] = await run(f16Tensor(values, l.x), 'f16');
        expect(y16.filter((v, i) => !(Math.abs(v - f32[0][i]) < f16Ulp(f32[0][i]))), `${l.name}: f16 y beyond one f16 step`).toEqual([]);
        grads16.forEach((g, i) => expect(g, `${l.name}, f16 y: ${['dx', 'dw', 'db'][i]}`).toEqual(f32[i + 1]));
        w.dispose();
        b.dispose();
      }
    }));
  }
  for (const t of [{ tm: 8, tn: 8 }, { tm: 4, tn: 4, strategy: 'tiles' }, { tm: 4, tn: 4, splitK: 2 }] as ConvTiling[]) it(`a transposed convolution (${t.strategy ?? 'registers'}${t.splitK ? ', split-K' : ''}) writes an f16 output (within one f16 step of f32's, gradients equal) and refuses an f16 input in one line`, (ctx) => withTiling(t, async () => {
    skipWithoutF16(ctx);
    const opts = { stride: 2, padding: 1, outputPadding: 1 };
    const w = Tensor.fromArray(inputData({ shape: [4, 3, 3, 3], seed: 91, scale: 1 }), [4, 3, 3, 3]);
    w.requiresGrad = true;
    const run = async (storage: 'f32' | 'f16') => {
      const x = Tensor.fromArray(inputData({ shape: [2, 4, 5, 6], seed: 90, scale: 1 }), [2, 4, 5, 6]);
      x.requiresGrad = true;
      const y = convTranspose2d(x, w, null, { ...opts, storage });
      const out = storage === 'f16' ? await f16Data(y) : await y.data();
      backward(y, Tensor.fromArray(inputData({ shape: y.shape, seed: 92, scale: 1 }), y.shape));
      const grads = [Array.from(await x.grad!.data()), Array.from(await w.grad!.data())];
      w.grad!.dispose();
      w.grad = null;
      x.dispose();
      return { y: Array.from(out), grads };
    };
    const f32 = await run('f32');
    const f16 = await run('f16');
    expect(f16.y.filter((v, i) => !(Math.abs(v - f32.y[i]) < f16Ulp(f32.y[i])))).toEqual([]);
    expect(f16.grads).toEqual(f32.grads);
    const x16 = f16Tensor(new Float32Array(2 * 4 * 4 * 4), [2, 4, 4, 4]);
    expect(() => convTranspose2d(x16, w, null, opts)).toThrow(/holds f16 values/);
    x16.dispose();
    w.dispose();
  }));
});

describe('conv: staged weight gradient', () => {
  // The fixtures are at most 38 pixels wide; the staged kernel takes dy rows 64 pixels at a time. Both kernels add the
  // same products in the same order, so the staged one (a GPU candidate) must equal the PyTorch-checked one exactly.
  it('equals the unstaged kernel bit for bit on 150-pixel rows (three staged chunks), reflect-padded, split-K', async () => {
    const g = { N: 1, Cin: 3, H: 5, W: 150, Cout: 6, OH: 5, OW: 150, KH: 3, KW: 3, stride: 1, pad: 1, reflect: true };
    const x = Tensor.fromArray(inputData({ shape: [1, 3, 5, 150], seed: 21, scale: 1 }), [1, 3, 5, 150]);
    const dy = Tensor.fromArray(inputData({ shape: [1, 6, 5, 150], seed: 22, scale: 1 }), [1, 6, 5, 150]);
    const results: Float32Array[][] = [];
    for (const staged of [false, true]) {
      results.push(await withTiling({ tm: 4, tn: 4, wg: 8, staged }, async () => {
        const [dw, db] = weightAndBiasGrad(g, x.binding, dy);
        return [await dw.data(), await db.data()];
      }));
    }
    expect(Array.from(results[1][0])).toEqual(Array.from(results[0][0]));
    expect(Array.from(results[1][1])).toEqual(Array.from(results[0][1]));
  });
});

describe('conv: finite differences', () => {
  const x = { data: inputData({ shape: [2, 2, 5, 4], seed: 7, scale: 1 }), shape: [2, 2, 5, 4] };
  const b = { data: inputData({ shape: [3], seed: 9, scale: 1 }), shape: [3] };
  it('conv2d stride 2, padding 1', async () => {
    const w = { data: inputData({ shape: [3, 2, 3, 3], seed: 8, scale: 1 }), shape: [3, 2, 3, 3] };
    const r = await gradcheck((xx, ww, bb) => conv2d(xx, ww, bb, { stride: 2, padding: 1 }), [x, w, b]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
  // Padding 2 of width 4: inner columns mirror onto both edges. Stride 1 folds in the flipped direct gather, stride 2
  // in the phase gather (both also split over their 3 channels, each slice adding its channels' mirrors), 'tiles' in the
  // workgroup-memory kernel (at stride 2 over every tap: the mirrors mix the phases), the fold pass after the gather over the padded grid (its slices added by the fold; also
  // with the weights staged in workgroup memory).
  for (const [stride, t] of [[1, null], [2, null], [1, { tm: 4, tn: 4, strategy: 'tiles' }], [2, { tm: 4, tn: 4, strategy: 'tiles' }], [1, { tm: 4, tn: 4, splitK: 2 }], [2, { tm: 4, tn: 4, splitK: 2 }], [1, { tm: 4, tn: 4, splitK: 2, foldPass: true }], [1, { tm: 4, tn: 4, splitK: 2, foldPass: true, staged: true }]] as [number, ConvTiling | null][]) {
    it(`conv2d with reflection padding 2, stride ${stride}${t ? `, ${t.strategy ?? `split-K ${t.splitK}`}${t.foldPass ? ', fold pass' : ''}${t.staged ? ', staged' : ''}` : ''}`, async () => {
      const w = { data: inputData({ shape: [3, 2, 3, 3], seed: 8, scale: 1 }), shape: [3, 2, 3, 3] };
      await withTiling(t ?? convTiling(), async () => {
        const r = await gradcheck((xx, ww, bb) => conv2d(xx, ww, bb, { stride, padding: 2, paddingMode: 'reflect' }), [x, w, b]);
        expect(r.worst, r.detail).toBeLessThanOrEqual(1);
      });
    });
  }
  // Winograd: 5×4 and 2×3 maps, reflection folded onto rows that are also mirrors (the 2-row map) and zero padding;
  // F(4×4) forwards, whose last tile reads past a 2-row map's mirrors, and F(4×4) gradients together.
  for (const [shape, mode, m] of [[[2, 2, 5, 4], 'reflect'], [[1, 2, 2, 3], 'reflect'], [[2, 2, 5, 4], 'zeros'], [[1, 2, 2, 3], 'reflect', 4], [[2, 2, 5, 4], 'zeros', 4]] as [number[], 'reflect' | 'zeros', 4?][]) {
    it(`conv2d 3×3, ${mode} padding 1, ${shape[2]}×${shape[3]} map, Winograd${m ? ' F(4×4)' : ''}`, async () => {
      const xs = { data: inputData({ shape, seed: 7, scale: 1 }), shape };
      const w = { data: inputData({ shape: [3, 2, 3, 3], seed: 8, scale: 1 }), shape: [3, 2, 3, 3] };
      await withTiling({ tm: 4, tn: 4, strategy: 'winograd', m }, async () => {
        const r = await gradcheck((xx, ww, bb) => conv2d(xx, ww, bb, { padding: 1, paddingMode: mode }), [xs, w, b]);
        expect(r.worst, r.detail).toBeLessThanOrEqual(1);
      });
    });
  }
  // A 1×1 kernel at stride 2: its input gradient's odd rows and columns are phases without a tap (0). 'tiles' runs
  // one GEMM per phase, of depth 0 there, and a 2-way split of the 2 channels.
  for (const t of [null, { tm: 4, tn: 4, strategy: 'tiles' }, { tm: 4, tn: 4, strategy: 'tiles', splitK: 2 }] as (ConvTiling | null)[]) {
    it(`conv2d 1×1, stride 2${t ? `, ${t.strategy}${t.splitK ? ', split-K 2' : ''}` : ''}`, async () => {
      const w = { data: inputData({ shape: [3, 2, 1, 1], seed: 8, scale: 1 }), shape: [3, 2, 1, 1] };
      await withTiling(t ?? convTiling(), async () => {
        const r = await gradcheck((xx, ww, bb) => conv2d(xx, ww, bb, { stride: 2 }), [x, w, b]);
        expect(r.worst, r.detail).toBeLessThanOrEqual(1);
      });
    });
  }
  it('convTranspose2d stride 2, padding 1, output padding 1', async () => {
    const w = { data: inputData({ shape: [2, 3, 3, 3], seed: 8, scale: 1 }), shape: [2, 3, 3, 3] };
    const r = await gradcheck((xx, ww, bb) => convTranspose2d(xx, ww, bb, { stride: 2, padding: 1, outputPadding: 1 }), [x, w, b]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('convTranspose2d crop', () => {
  // Each strategy forced for both calls (autotune could pick another summation order for one): GPU-only ones included.
  for (const t of [{ tm: 4, tn: 4 }, { tm: 4, tn: 4, strategy: 'tiles' }, { tm: 4, tn: 4, splitK: 2 }, { tm: 8, tn: 8, staged: true }] as ConvTiling[]) {
    it(`computes the first rows × columns of the output alone, equal to them bit for bit (${t.strategy ?? 'registers'}${t.splitK ? ', split-K' : ''}${t.staged ? ', staged' : ''})`, () => withTiling(t, async () => {
      const x = Tensor.fromArray(hashUniform(2 * 3 * 5 * 6, 31), [2, 3, 5, 6]);
      const w = Tensor.fromArray(hashUniform(3 * 4 * 3 * 3, 32), [3, 4, 3, 3]);
      const b = Tensor.fromArray(hashUniform(4, 33), [4]);
      const opts = { stride: 2, padding: 1, outputPadding: 0 };
      const full = await convTranspose2d(x, w, b, opts).data(); // [2, 4, 9, 11]
      const crop = convTranspose2d(x, w, b, { ...opts, crop: [8, 10] });
      expect(crop.shape).toEqual([2, 4, 8, 10]);
      const got = await crop.data();
      for (let i = 0; i < got.length; i++) {
        const [j, r, nc] = [i % 10, Math.floor(i / 10) % 8, Math.floor(i / 80)];
        expect(got[i]).toBe(full[(nc * 9 + r) * 11 + j]);
      }
      for (const t of [x, w, b, crop]) t.dispose();
    }));
  }

  it('refuses a crop beyond the output, and gradients', () => {
    scope(() => {
      const x = Tensor.zeros([2, 3, 5, 6]);
      const w = Tensor.zeros([3, 4, 3, 3]);
      const opts = { stride: 2, padding: 1, outputPadding: 0 };
      expect(() => convTranspose2d(x, w, null, { ...opts, crop: [10, 10] })).toThrow(/convTranspose2d: crop must be within the 9×11 output, got 10×10/);
      w.requiresGrad = true;
      expect(() => convTranspose2d(x, w, null, { ...opts, crop: [8, 10] })).toThrow(/convTranspose2d: crop is not supported with gradients/);
    });
  });
});

describe('conv: bad calls', () => {
  it('names what was expected and what was given', () => {
    scope(() => {
      const x = Tensor.zeros([1, 3, 8, 8]);
      const w = Tensor.zeros([4, 3, 3, 3]);
      expect(() => conv2d(Tensor.zeros([3, 8, 8]), w, null)).toThrow(/conv2d: input must have rank 4 \(N, C, H, W\), got \[3, 8, 8\]/);
      expect(() => conv2d(x, Tensor.zeros([4, 2, 3, 3]), null)).toThrow(/conv2d: weight \[4, 2, 3, 3\] expects 2 input channels, got input .*\[1, 3, 8, 8\]/);
      expect(() => conv2d(x, w, Tensor.zeros([3]))).toThrow(/conv2d: bias must have shape \[4\], got \[3\]/);
      expect(() => conv2d(x, Tensor.zeros([4, 3, 9, 9]), null)).toThrow(/conv2d: kernel 9×9 is larger than the padded input 8×8/);
      expect(() => conv2d(x, w, null, { stride: 0 })).toThrow(/conv2d: stride must be a positive integer, got 0/);
      expect(() => conv2d(x, w, null, { padding: 8, paddingMode: 'reflect' })).toThrow(/conv2d: padding must be less than the input width 8, got pad left 8/);
      expect(() => conv2d(x, w, null, { paddingMode: 'circular' as 'reflect' })).toThrow(/conv2d: paddingMode must be 'zeros' or 'reflect', got "circular"/);
      expect(() => convTranspose2d(x, Tensor.zeros([3, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }))
        .toThrow(/convTranspose2d: outputPadding must be smaller than stride 2, got 2/);
    });
  });
});
