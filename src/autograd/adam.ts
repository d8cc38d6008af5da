// torch.optim.Adam over a list of parameters: one fused GPU update per parameter that has a gradient.
import { Tensor, fmtShape } from '../graph/tensor.js';
import { fill } from '../graph/fill.js';
import { adamUpdate } from '../kernels/adam.js';
import { live } from '../kernels/check.js';
import { zeroGrad } from './tape.js';

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
  // Moments live as long as the optimizer, outside any scope.
  private m: Tensor[];
  private v: Tensor[];

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
    this.m = params.map((p) => fill(p.shape, 0).keep());
    this.v = params.map((p) => fill(p.shape, 0).keep());
  }

  /** The moment tensors, one per parameter (for the training guard's non-finite check). */
  get moments(): { m: readonly Tensor[]; v: readonly Tensor[] } {
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
    this.params.forEach((p, i) => {
      if (p.grad) adamUpdate(p, p.grad, this.m[i], this.v[i], hyper);
    });
  }

  zeroGrad(): void {
    zeroGrad(this.params);
  }

  async state(): Promise<AdamState> {
    return {
      step: this.steps,
      m: await Promise.all(this.m.map((t) => t.data())),
      v: await Promise.all(this.v.map((t) => t.data())),
    };
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
    state.m.forEach((a, i) => this.m[i].writeData(a));
    state.v.forEach((a, i) => this.v[i].writeData(a));
    this.steps = state.step;
  }

  /** Frees the moment buffers; the optimizer cannot be used afterwards. */
  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
