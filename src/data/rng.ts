// Seeded random stream for data sampling. Value k of the stream is hash32(k, seed) (src/graph/random.ts), so the
// whole state is (seed, counter): saving it with a checkpoint and restoring it continues the run identically.
// The stream repeats after 2^32 draws, far beyond a training run's few million.
import { hash32 } from '../graph/random.js';

export interface RngState { seed: number; counter: number }

export class Rng {
  private seed: number;
  private counter = 0;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`Rng: seed must be an integer, got ${seed}`);
    this.seed = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return hash32(this.counter++, this.seed) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  state(): RngState {
    return { seed: this.seed, counter: this.counter };
  }

  setState(s: RngState): void {
    if (!s || !Number.isInteger(s.seed) || !Number.isSafeInteger(s.counter) || s.counter < 0) {
      throw new Error(`Rng.setState: expected { seed: integer, counter: non-negative integer }, got ${JSON.stringify(s)}`);
    }
    this.seed = s.seed >>> 0;
    this.counter = s.counter;
  }

  static fromState(s: RngState): Rng {
    const r = new Rng(0);
    r.setState(s);
    return r;
  }
}
