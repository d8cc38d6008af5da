// An exponential moving average of parameters (Polyak averaging), kept beside the optimiser: the averaged weights
// generalise better than the last step's when small batches make each step noisy. The decay ramps up with the
// update count as TensorFlow's ExponentialMovingAverage(num_updates) does, min(decay, (1 + t) / (10 + t)), so that
// the average covers roughly the last tenth of training early on rather than holding on to the start.
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { averageInto } from '../kernels/weight_average.js';
import { live } from '../kernels/check.js';

export interface WeightAverageState {
  updates: number;
  values: Float32Array[];
}

export class WeightAverage {
  readonly params: readonly Tensor[];
  /** The averaged values, one tensor per parameter (kept outside any scope). */
  readonly averages: readonly Tensor[];
  private count = 0;

  constructor(params: Tensor[], readonly decay: number) {
    if (!(decay > 0 && decay < 1)) throw new Error(`WeightAverage: decay must be in (0, 1), got ${decay}`);
    live('WeightAverage', ...params);
    this.params = [...params];
    this.averages = params.map((p) => {
      const avg = Tensor.empty(p.shape).keep();
      rt().copy(p.buffer, 0, avg.buffer, 0, p.bytes);
      return avg;
    });
  }

  get updates(): number {
    return this.count;
  }

  /** The decay of update t (1-based). */
  decayAt(t: number): number {
    return Math.min(this.decay, (1 + t) / (10 + t));
  }

  /** Folds the parameters' current values into the average (after each optimiser step). */
  update(): void {
    const d = this.decayAt(++this.count);
    this.params.forEach((p, i) => averageInto(this.averages[i], p, d));
  }

  /** Runs fn with the averaged values in the parameters, then puts the trained values back. */
  async withAverage<T>(fn: () => Promise<T>): Promise<T> {
    this.exchange();
    try {
      return await fn();
    } finally {
      this.exchange();
    }
  }

  private exchange(): void {
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      const avg = this.averages[i];
      const tmp = Tensor.empty(p.shape);
      rt().copy(p.buffer, 0, tmp.buffer, 0, p.bytes);
      rt().copy(avg.buffer, 0, p.buffer, 0, p.bytes);
      rt().copy(tmp.buffer, 0, avg.buffer, 0, p.bytes);
      tmp.dispose();
    }
  }

  async state(): Promise<WeightAverageState> {
    return { updates: this.count, values: await Promise.all(this.averages.map((a) => a.data())) };
  }

  loadState(state: WeightAverageState): void {
    if (state.values.length !== this.averages.length || state.values.some((v, i) => v.length !== this.averages[i].size)) {
      throw new Error(`WeightAverage.loadState: the state holds ${state.values.length} arrays that do not match these ${this.averages.length} parameters`);
    }
    state.values.forEach((v, i) => this.averages[i].writeData(v));
    this.count = state.updates;
  }

  dispose(): void {
    for (const a of this.averages) a.dispose();
  }
}
