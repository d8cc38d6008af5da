// Parameter bookkeeping shared by every network: named parameters, CycleGAN's N(0, 0.02) initialisation from the
// counter-based RNG (so PyTorch tests rebuild identical weights), and state dicts for checkpoints.
import { Tensor, fmtShape } from '../graph/tensor.js';
import { hashNormal } from '../graph/random.js';

export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** Derives a distinct seed per parameter name so inserting a layer does not reshuffle the others. */
export function nameSeed(base: number, name: string): number {
  let h = base >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class Module {
  private params = new Map<string, Tensor>();
  private normalInit = new Map<Tensor, { std: number; mean: number }>();
  private children = new Map<string, Module>();

  /** A trainable tensor, kept out of scopes. 'normal' parameters get N(mean, std) values from `initialize` (mean 1:
   * pix2pix's BatchNorm scales). */
  protected param(name: string, shape: number[], init: 'normal' | 'zeros' | 'ones', std = 0.02, mean = 0): Tensor {
    const t = Tensor.fill(shape, init === 'ones' ? 1 : 0).keep();
    t.requiresGrad = true;
    t.name = name;
    this.params.set(name, t);
    if (init === 'normal') this.normalInit.set(t, { std, mean });
    return t;
  }

  /** Draws every 'normal' parameter from (seed, full parameter name), e.g. "model.10.conv_block.1.weight". */
  initialize(seed: number): this {
    for (const [name, t] of this.namedParameters()) {
      const init = this.findInit(t);
      if (init === undefined) continue;
      const values = hashNormal(t.size, nameSeed(seed, name), init.std);
      if (init.mean !== 0) for (let i = 0; i < values.length; i++) values[i] += init.mean;
      t.writeData(values);
    }
    return this;
  }

  private findInit(t: Tensor): { std: number; mean: number } | undefined {
    if (this.normalInit.has(t)) return this.normalInit.get(t);
    for (const c of this.children.values()) {
      const init = c.findInit(t);
      if (init !== undefined) return init;
    }
    return undefined;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this.params) out.push([prefix + k, t]);
    for (const [k, c] of this.children) out.push(...c.namedParameters(`${prefix}${k}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  parameterCount(): number {
    return this.parameters().reduce((a, t) => a + t.size, 0);
  }

  setRequiresGrad(on: boolean): void {
    for (const t of this.parameters()) t.requiresGrad = on;
  }

  /** Every parameter's values, read back in one submit (reads started together share it). */
  async stateDict(): Promise<StateDict> {
    const named = this.namedParameters();
    const values = await Promise.all(named.map(([, t]) => t.data()));
    return Object.fromEntries(named.map(([k, t], i) => [k, { shape: [...t.shape], data: values[i] }]));
  }

  /** Overwrites every parameter; names and shapes must match exactly. */
  loadStateDict(state: StateDict): void {
    const named = this.namedParameters();
    const missing = named.filter(([k]) => !(k in state)).map(([k]) => k);
    if (missing.length) throw new Error(`state dict is missing ${missing.length} parameters: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
    for (const [k, t] of named) {
      const s = state[k];
      if (s.shape.join() !== t.shape.join()) throw new Error(`parameter ${k}: expected shape ${fmtShape(t.shape)}, state dict has ${fmtShape(s.shape)}`);
      t.writeData(s.data);
    }
  }

  dispose(): void {
    for (const t of this.parameters()) {
      t.grad?.dispose();
      t.dispose();
    }
  }
}
