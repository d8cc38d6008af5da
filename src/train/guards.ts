// Finite-state guards of training: parameters and Adam moments are checked for NaN / Inf on the GPU every N
// iterations (one small readback); on detection the run returns to its last good state in memory with a lower
// learning rate, or stops, as the user chose (--on-nan). A state with a non-finite value is never kept or written.
import type { Tensor } from '../graph/tensor.js';
import type { GanModel } from '../model/cyclegan.js';
import type { NamedArray } from '../io/safetensors.js';
import { countNonFinite } from '../kernels/nonfinite.js';
import { countNonFiniteValues, nonFiniteArrays } from '../data/finite.js';
import { restoreCheckpoint, type CheckpointState } from './checkpoint.js';

export const ON_NAN = ['rollback', 'stop'] as const;
export type OnNan = (typeof ON_NAN)[number];
export const DEFAULT_NAN_CHECK_EVERY = 10;
/** The learning rate is multiplied by this at each rollback. */
export const ROLLBACK_LR_FACTOR = 0.5;
/** Rollbacks in one session before the run stops: a run that keeps diverging needs other settings. */
export const MAX_ROLLBACKS = 5;

const NET_NAMES: Record<string, string> = { gS: 'G_s', gT: 'G_t', dT: 'D_t', dS: 'D_s' };

function stateGroups(m: GanModel): [string, readonly Tensor[]][] {
  return [
    ...m.networks().map(([prefix, net]): [string, readonly Tensor[]] => [`${NET_NAMES[prefix] ?? prefix} weights`, net.parameters()]),
    ["generators' Adam first moment", [m.optG.moments.m]], ["generators' Adam second moment", [m.optG.moments.v]],
    ["discriminators' Adam first moment", [m.optD.moments.m]], ["discriminators' Adam second moment", [m.optD.moments.v]],
  ];
}

/** Null when every parameter and Adam moment is finite, else what holds NaN / Inf (one GPU pass, one readback). */
export async function nonFiniteState(model: GanModel): Promise<string | null> {
  const groups = stateGroups(model);
  const counts = await countNonFinite(groups.flatMap(([, ts]) => ts));
  let k = 0;
  const bad: string[] = [];
  for (const [name, ts] of groups) {
    let n = 0;
    for (let i = 0; i < ts.length; i++) n += counts[k++];
    if (n > 0) bad.push(`${n} in the ${name}`);
  }
  return bad.length ? `NaN/Inf values (${bad.join(', ')})` : null;
}

export class NanGuard {
  private good: CheckpointState | null = null;
  private rollbacks = 0;
  /** Factor on the scheduled learning rate: halved at each rollback, kept in checkpoints. */
  lrScale = 1;

  constructor(private model: GanModel, readonly every: number, readonly onNan: OnNan, private note: (message: string) => void = () => {}) {}

  due(iteration: number): boolean {
    return iteration % this.every === 0;
  }

  check(): Promise<string | null> {
    return nonFiniteState(this.model);
  }

  /** Keeps a captured state as the one to return to; throws (nothing is kept) if it holds a non-finite value. */
  remember(state: CheckpointState): void {
    const bad = nonFiniteArrays(state.tensors);
    if (bad) throw new Error(`training state of iteration ${state.meta.iteration} holds ${bad}; it is not saved`);
    this.good = state;
    this.lrScale = state.meta.lrScale ?? this.lrScale;
  }

  /**
   * After `problem` was found at `iteration`: with --on-nan stop (or too many rollbacks) throws one line saying what
   * is kept; otherwise restores the last good state into the model, lowers the learning rate and returns that state.
   */
  recover(problem: string, iteration: number, saved: number): CheckpointState {
    const kept = saved > 0 ? `the checkpoint of iteration ${saved} is kept` : 'no checkpoint was written';
    if (this.onNan === 'stop' || !this.good) {
      throw new Error(`training stopped at iteration ${iteration}: ${problem}; ${kept} (--on-nan rollback returns to the last good state with a lower learning rate)`);
    }
    if (this.rollbacks === MAX_ROLLBACKS) {
      throw new Error(`training stopped at iteration ${iteration}: ${problem} again after ${MAX_ROLLBACKS} rollbacks; ${kept}; try a lower --lr or loss weights`);
    }
    this.rollbacks++;
    this.lrScale *= ROLLBACK_LR_FACTOR;
    restoreCheckpoint(this.model, this.good);
    this.note(
      `iteration ${iteration}: ${problem}; rolled back to iteration ${this.good.meta.iteration}, learning rate ×${this.lrScale} ` +
        `(rollback ${this.rollbacks} of at most ${MAX_ROLLBACKS})`,
    );
    return this.good;
  }
}
