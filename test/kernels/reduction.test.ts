// The workgroup reductions of the norm and bias-gradient kernels against the same oracles under each variant:
// the tree of 256 in workgroup memory (what GPUs run) and, where the adapter has subgroups, the subgroup sum (what
// CPU adapters run). setReduction forces the variant, as COMI_REDUCTION does.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases } from '../helpers/oracle.js';
import { normOracleTests, convOracleCase } from './oracle_case.js';
import { rt } from '../../src/graph/runtime.js';
import { instanceNorm } from '../../src/kernels/instance_norm.js';
import { batchNorm } from '../../src/kernels/batch_norm.js';
import { reductionVariant, setReduction } from '../../src/kernels/autotune.js';

useGpu();

for (const kind of ['tree', 'subgroup'] as const) {
  describe(`reduction '${kind}'`, () => {
    let supported = true;
    beforeAll(() => {
      supported = kind === 'tree' || rt().gpu.features.has('subgroups');
      setReduction(kind);
    });
    afterAll(() => setReduction(null));

    it('is the variant the kernels get', ({ skip }) => {
      if (!supported) skip(`${rt().gpu.adapterName} has no subgroups`);
      expect(reductionVariant().kind).toBe(kind);
      if (kind === 'tree') expect(reductionVariant().wg).toBe(256);
    });
    normOracleTests('instance_norm', instanceNorm);
    normOracleTests('batch_norm', batchNorm);
    // Transposed convolutions with a bias take their bias gradient from conv_bias_grad.wgsl.
    for (const name of fixtureCases('conv').filter((n) => n.startsWith('conv_transpose2d'))) {
      it(`${name} (bias gradient)`, () => convOracleCase(name));
    }
  });
}
