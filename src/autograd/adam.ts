// torch.optim.Adam over a list of parameters. The optimizer owns four arenas of one layout: the parameters move
// into the first (each stays the same Tensor, now a slice), backward writes their gradients into slices of the
// second (Tensor.gradHome), the moments fill the other two. One dispatch then updates every parameter.
import { Tensor, fmtShape, alignedOffsets } from '../graph/tensor.js';
import { fill, fillInto } from '../graph/fill.js';
import { adamUpdate } from '../kernels/adam.js';
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
  // The arenas live as long as the optimizer, outside any scope: parameter i's elements start at offsets[i] of
  // each, on the adapter's binding alignment; the gaps between parameters hold zeros (gradient 0 keeps them 0).
  private weights: Tensor;
  private grads: Tensor;
  private m: Tensor;
  private v: Tensor;
  private readonly offsets: number[];
  /** Whether parameter i's gradient slice holds zeros (filled since it was last handed out). */
  private zeroed: boolean[];

  constructor(params: Tensor[], opts: AdamOptions) {
    const { lr, beta1, beta2, eps } = opts;
    if (!(lr >= 0)) throw new Error(`Adam: lr must be >= 0, got ${lr}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw new Error(`Adam: beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`Adam: beta2 must be in [0, 1), got ${beta2}`);
    if (!(eps >= 0)) throw new Error(`Adam: eps must be >= 0, got ${eps}`);
    live('Adam', ...params);
    for (const p of params) {
      if (p.dtype !== 'f32') throw new Error(`Adam: ${p.describe()} is not f32`);
      if (p.gradHome) throw new Error(`Adam: ${p.describe()} already belongs to another optimizer (dispose that one first)`);
    }
    if (new Set(params).size !== params.length) throw new Error('Adam: a parameter is listed twice');
    this.params = [...params];
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    const at = alignedOffsets(params.map((p) => p.size));
    this.offsets = at.slice(0, -1);
    const total = at[at.length - 1];
    [this.weights, this.grads, this.m, this.v] = [0, 1, 2, 3].map(() => fill([Math.max(1, total)], 0).keep());
    this.zeroed = params.map(() => true);
    params.forEach((p, i) => {
      p.moveInto(this.weights.slice(this.offsets[i], p.shape));
      p.gradHome = () => this.gradSlice(i);
    });
  }

  /** Parameter i's gradient slice, zeroed unless it is about to be overwritten: where backward writes its gradient. */
  private gradSlice(i: number, zero = true): Tensor {
    const slice = this.grads.slice(this.offsets[i], this.params[i].shape);
    if (zero && !this.zeroed[i]) fillInto(slice, 0);
    this.zeroed[i] = false;
    return slice;
  }

  /** The flat moment buffers, all parameters back to back (for the training guard's non-finite check). */
  get moments(): { m: Tensor; v: Tensor } {
    return { m: this.m, v: this.v };
  }

  /** Steps taken so far (t of the bias corrections; one count for all parameters). */
  get stepCount(): number {
    return this.steps;
  }

  /** Updates every parameter that has a gradient (one dispatch per run of consecutive ones; a gradient set by hand
   * is first copied into the arena); parameters without one are left as they are. */
  step(): void {
    this.steps++;
    const hyper = { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, step: this.steps };
    let first = -1;
    const update = (end: number) => {
      if (first >= 0) adamUpdate(this.weights, this.grads, this.m, this.v, this.offsets[first], this.offsets[end - 1] + this.params[end - 1].size, hyper);
      first = -1;
    };
    this.params.forEach((p, i) => {
      if (!p.grad) return update(i);
      if (!p.grad.isSliceOf(this.grads, this.offsets[i])) {
        const slice = this.gradSlice(i, false);
        slice.copyFrom(p.grad);
        p.grad.dispose();
        p.grad = slice.keep();
      }
      if (first < 0) first = i;
    });
    update(this.params.length);
  }

  /** Clears the gradients; the arena is zeroed in one dispatch, ready for the next backward. */
  zeroGrad(): void {
    zeroGrad(this.params);
    if (this.zeroed.every(Boolean)) return;
    fillInto(this.grads, 0);
    this.zeroed.fill(true);
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

  /** Frees the gradient and moment arenas; the parameters keep their values (their arena lives while they do) and
   * can join another optimizer. This one cannot be used afterwards. */
  dispose(): void {
    for (const p of this.params) p.gradHome = null;
    for (const t of [this.weights, this.grads, this.m, this.v]) t.dispose();
  }
}
