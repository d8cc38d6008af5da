// Finite-difference gradient check, independent of any oracle: compares the tape's gradient of
// L = sum(f(inputs) * R) (R a fixed random projection) with central differences of L.
import { Tensor, scope } from '../graph/tensor.js';
import { hashUniform } from '../graph/random.js';
import { backward, noGrad } from './tape.js';
import { mul } from '../kernels/binary.js';
import { sum } from '../kernels/reduce.js';

export interface GradcheckResult {
  /** Worst |analytic − numeric| / (atol + rtol·|numeric|) over all checked elements; ≤ 1 passes. A non-finite
   * analytic or numeric value makes it Infinity (a NaN ratio would compare as passing). */
  worst: number;
  detail: string;
}

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Indices of inputs to check (default: all). */
  check?: number[];
}

/** f maps input tensors to one output tensor; inputs are given as data + shape. */
export async function gradcheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: { data: Float32Array; shape: number[] }[],
  opts: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const { eps = 1e-2, atol = 1e-3, rtol = 1e-2 } = opts;
  const check = opts.check ?? inputs.map((_, i) => i);
  let projection: Float32Array | null = null;

  const lossOf = (datas: Float32Array[], withGrad: boolean): { loss: Tensor; leaves: Tensor[] } => {
    const leaves = datas.map((d, i) => {
      const t = Tensor.fromArray(d, inputs[i].shape);
      t.requiresGrad = withGrad && check.includes(i);
      return t;
    });
    const out = f(...leaves);
    projection ??= hashUniform(out.size, 777, 1);
    const r = Tensor.fromArray(projection, out.shape);
    return { loss: sum(mul(out, r)), leaves };
  };

  const base = inputs.map((x) => Float32Array.from(x.data));
  const analytic = await (async () => {
    const { loss, leaves, grads } = scope(() => {
      const { loss, leaves } = lossOf(base, true);
      backward(loss);
      return { loss, leaves, grads: leaves.map((l) => l.grad) };
    });
    const result = await Promise.all(grads.map((g) => (g ? g.data() : Promise.resolve(null))));
    grads.forEach((g) => g?.dispose());
    leaves.forEach((l) => l.dispose());
    loss.dispose();
    return result;
  })();

  const evalLoss = async (datas: Float32Array[]): Promise<number> => {
    const loss = noGrad(() => scope(() => lossOf(datas, false).loss));
    const v = await loss.item();
    loss.dispose();
    return v;
  };

  let worst = 0;
  let detail = 'all within tolerance';
  for (const i of check) {
    const a = analytic[i];
    if (!a) throw new Error(`gradcheck: input ${i} got no gradient`);
    for (let k = 0; k < base[i].length; k++) {
      const orig = base[i][k];
      base[i][k] = orig + eps;
      const plus = await evalLoss(base);
      base[i][k] = orig - eps;
      const minus = await evalLoss(base);
      base[i][k] = orig;
      const numeric = (plus - minus) / (2 * eps);
      let ratio = Math.abs(a[k] - numeric) / (atol + rtol * Math.abs(numeric));
      if (!Number.isFinite(a[k]) || !Number.isFinite(numeric) || Number.isNaN(ratio)) ratio = Infinity;
      if (ratio > worst) {
        worst = ratio;
        detail = `input ${i} element ${k}: analytic ${a[k]}, numeric ${numeric}`;
      }
    }
  }
  return { worst, detail };
}
