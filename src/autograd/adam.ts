// torch.optim.Adam over a list of parameters: the moments of all parameters in two flat buffers, and one fused GPU
// update per group of up to adamGroupSize() consecutive parameters that have gradients.
import { Tensor, fmtShape } from '../graph/tensor.js';
import { fill } from '../graph/fill.js';
import { adamUpdate, adamGroupSize } from '../kernels/adam.js';
import { live } from '../kernels/check.js';
import { backward, zeroGrad } from './tape.js';

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** What a checkpoint stores: the step count and the first/second moments, one array per parameter. */
export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  /** Learning rate of the next step (settable for schedules). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly params: readonly Tensor[];
  private steps = 0;
  // Moments live as long as the optimizer, outside any scope: parameter i's at offsets[i] of m and v.
  private m: Tensor;
  private v: Tensor;
  private offsets: number[] = [];

  constructor(params: Tensor[], opts: AdamOptions) {
    const { lr, beta1, beta2, eps } = opts;
    if (!(lr >= 0)) throw new Error(`Adam: lr must be >= 0, got ${lr}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`Adam: beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`Adam: beta2 must be in [0, 1), got ${beta2}`);
    if (!(eps >= 0)) throw new Error(`Adam: eps must be >= 0, got ${eps}`);
    live('Adam', ...params);
    this.params = [...params];
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    let total = 0;
    for (const p of params) {
      this.offsets.push(total);
      total += p.size;
    }
    this.m = fill([Math.max(1, total)], 0).keep();
    this.v = fill([Math.max(1, total)], 0).keep();
  }

  /** The flat moment buffers, all parameters back to back (for the training guard's non-finite check). */
  get moments(): { m: Tensor; v: Tensor } {
    return { m: this.m, v: this.v };
  }

  /** Steps taken so far (t of the bias corrections; one count for all parameters). */
  get stepCount(): number {
    return this.steps;
  }

  /** Updates every parameter that has a gradient; parameters without one are left as they are. */
  step(): void {
    this.steps++;
    const hyper = { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, step: this.steps };
    const most = adamGroupSize();
    let group: number[] = [];
    const update = () => {
      if (group.length) adamUpdate(group.map((i) => this.params[i]), group.map((i) => this.params[i].grad!), this.m, this.v, this.offsets[group[0]], hyper);
      group = [];
    };
    // A group's moments must be contiguous: a parameter without a gradient ends it.
    this.params.forEach((p, i) => {
      if (!p.grad) return update();
      group.push(i);
      if (group.length === most) update();
    });
    update();
  }

  zeroGrad(): void {
    zeroGrad(this.params);
  }

  /** One update against loss: gradients cleared, loss back-propagated, the parameters stepped. */
  minimize(loss: Tensor): void {
    this.zeroGrad();
    backward(loss);
    this.step();
  }

  async state(): Promise<AdamState> {
    const [m, v] = await Promise.all([this.m.data(), this.v.data()]);
    const split = (all: Float32Array) => this.params.map((p, i) => all.slice(this.offsets[i], this.offsets[i] + p.size));
    return { step: this.steps, m: split(m), v: split(v) };
  }

  /** Restores a state saved by state() for the same parameter list. */
  loadState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`Adam.loadState: step must be a non-negative integer, got ${state.step}`);
    for (const key of ['m', 'v'] as const) {
      const arrays = state[key];
      if (arrays.length !== this.params.length) {
        throw new Error(`Adam.loadState: expected ${this.params.length} ${key} arrays (one per parameter), got ${arrays.length}`);
      }
      arrays.forEach((a, i) => {
        const p = this.params[i];
        if (a.length !== p.size) {
          throw new Error(`Adam.loadState: ${key}[${i}] has ${a.length} values, expected ${p.size} for parameter ${fmtShape(p.shape)}`);
        }
      });
    }
    for (const key of ['m', 'v'] as const) {
      const all = new Float32Array(this.m.size);
      state[key].forEach((a, i) => all.set(a, this.offsets[i]));
      this[key].writeData(all);
    }
    this.steps = state.step;
  }

  /** Frees the moment buffers; the optimizer cannot be used afterwards. */
  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
