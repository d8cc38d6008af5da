// Shared by the one-training-step oracle tests (CycleGAN, Pix2Pix, DeblurGAN): the fixtures' small fixed feature
// net, and the comparison of losses, updated weights and Adam moments with PyTorch's.
import { Tensor } from '../../src/graph/tensor.js';
import { hashNormal, hashUniform } from '../../src/graph/random.js';
import { conv2d } from '../../src/kernels/conv2d.js';
import { relu } from '../../src/kernels/unary.js';
import { maxPool2x2 } from '../../src/kernels/max_pool.js';
import type { FeatureFn, GanModel, StepLosses } from '../../src/model/cyclegan.js';
import { ORACLE_TOL } from './gpu.js';
import { relError, type Fixture } from './oracle.js';

/** One training step: the bound (max |ours − torch| / max |torch| per tensor) on updated weights and on the
 * gradients (Adam's moments). Through a whole G+D backward, float32 itself is this far from float64: PyTorch in
 * float32 differs by up to 2e-4 on the CycleGAN fixture's generator gradients. Losses are held to ORACLE_TOL. */
export const STEP_TOL = 1e-3;

/** The fixture's fixed feature net (conv3 → ReLU → maxpool → conv3 → ReLU), weights regenerated from its seed. */
export function featureNet(channels: number, seed: number): { fn: FeatureFn; dispose: () => void } {
  const w1 = Tensor.fromArray(hashNormal(8 * channels * 9, seed, Math.sqrt(2 / (channels * 9))), [8, channels, 3, 3]).keep();
  const b1 = Tensor.fromArray(hashUniform(8, seed + 1, 0.1), [8]).keep();
  const w2 = Tensor.fromArray(hashNormal(16 * 8 * 9, seed + 2, Math.sqrt(2 / 72)), [16, 8, 3, 3]).keep();
  const b2 = Tensor.fromArray(hashUniform(16, seed + 3, 0.1), [16]).keep();
  const fn: FeatureFn = (x) => {
    const h1 = relu(conv2d(x, w1, b1, { padding: 1 }));
    return [h1, relu(conv2d(maxPool2x2(h1), w2, b2, { padding: 1 }))];
  };
  return { fn, dispose: () => [w1, b1, w2, b2].forEach((t) => t.dispose()) };
}

/** Each loss, updated weight and Adam first moment's error divided by its bound (so each must be ≤ 1), keyed by name;
 * also checks that every moment was compared. */
export async function stepErrors(fx: Fixture, model: GanModel, losses: StepLosses, lossKeys: (keyof StepLosses)[]): Promise<Record<string, number>> {
  const errors: Record<string, number> = {};
  for (const k of lossKeys) errors[`loss ${k}`] = relError(Float32Array.of(losses[k]), fx.outputs[`loss:${k}`]) / ORACLE_TOL;
  const moments = { g: (await model.optG.state()).m, d: (await model.optD.state()).m };
  const offsets = { g: 0, d: 0 };
  for (const [key, net] of model.networks()) {
    const kind = key[0] as 'g' | 'd';
    for (const [pname, t] of net.namedParameters()) {
      // Adam's m after one step is (1 − β1)·gradient. A conv bias followed by instance norm has gradient 0 in
      // exact arithmetic (PyTorch's float64 gives ~1e-19, float32 gives rounding noise): its moment is measured
      // against its conv weight's, and since Adam turns any gradient into a step of up to lr, its updated value
      // must lie within lr of PyTorch's (the bias cannot change the output: the norm removes it).
      const ref = fx.outputs[`m:${key}:${pname}`];
      const weightRef = fx.outputs[`m:${key}:${pname.replace(/bias$/, 'weight')}`];
      const beforeNorm = pname.endsWith('.bias') && ref.maxAbs < 1e-6 * weightRef.maxAbs;
      const w = fx.outputs[`w:${key}:${pname}`];
      errors[`w ${key}.${pname}`] = beforeNorm ? relError(await t.data(), { ...w, maxAbs: fx.params.lr }) : relError(await t.data(), w) / STEP_TOL;
      errors[`m ${key}.${pname}`] = relError(moments[kind][offsets[kind]++], beforeNorm ? { ...ref, maxAbs: weightRef.maxAbs } : ref) / STEP_TOL;
    }
  }
  if (offsets.g !== moments.g.length || offsets.d !== moments.d.length) throw new Error('not every Adam moment belongs to a compared parameter');
  return errors;
}
