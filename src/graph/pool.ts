// Reuses storage buffers by exact (16-byte rounded) size, at once: commands run in the order they are recorded, so a
// buffer released while its last readers are recorded but not yet submitted can take the output of a later command
// (the just-read, still cached memory, instead of a cold buffer for every output of a chunk). Not for a host upload:
// queue.writeBuffer lands before the unsubmitted commands, so a tensor written from the host gets a buffer released
// before the last submit, or a new one.
// A repeated step should get the same buffer for each of its tensors as a recent repeat did, so that its bind groups
// repeat and the runtime reuses them: the n-th request of a step (since a flush; the runtime also submits within a
// step) prefers a buffer that the n-th request of an earlier step had. (A plain stack permuted the buffers from step
// to step: 0–12 % of bind groups repeated.)

export interface PoolStats {
  liveBuffers: number;
  liveBytes: number;
  freeBuffers: number;
  freeBytes: number;
  /** Buffers ever created by the pool: flat across identical training steps means nothing is allocated per step. */
  created: number;
}

// WebGPU spec values; the GPUBufferUsage global only exists once Dawn's globals are installed.
export const Usage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const TENSOR_USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

export function roundBytes(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

/** Buffers remembered per request position: a tensor that lives into the next step (a gradient) alternates between
 * two buffers, so one is not enough. */
const REMEMBERED = 4;

/** Removes and returns the newest of recent that is in list, else the last in list; none of `excluded`. */
function takeRecent(list: GPUBuffer[], recent: GPUBuffer[], excluded: ReadonlySet<GPUBuffer>): GPUBuffer | undefined {
  for (const b of recent) {
    const i = list.lastIndexOf(b);
    if (i >= 0 && !excluded.has(b)) return list.splice(i, 1)[0];
  }
  for (let i = list.length - 1; i >= 0; i--) if (!excluded.has(list[i])) return list.splice(i, 1)[0];
  return undefined;
}

const NONE: ReadonlySet<GPUBuffer> = new Set();

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  /** Released since the last submit: unsubmitted commands may still read them. */
  private unsubmitted = new Set<GPUBuffer>();
  /** Requests since the end of the last step. */
  private position = 0;
  /** Per request position, the buffers it was handed most recently (newest first). */
  private byPosition: GPUBuffer[][] = [];
  private recording = false;
  private stats: PoolStats = { liveBuffers: 0, liveBytes: 0, freeBuffers: 0, freeBytes: 0, created: 0 };

  constructor(private device: GPUDevice) {}

  /** `hostWrite`: the buffer's contents will come from the host (queue.writeBuffer). */
  acquire(bytes: number, hostWrite = false): GPUBuffer {
    const size = roundBytes(bytes);
    const list = this.free.get(size);
    const recent = (this.byPosition[this.position] ??= []);
    let buffer = list && takeRecent(list, recent, hostWrite ? this.unsubmitted : NONE);
    if (buffer) {
      this.stats.freeBuffers--;
      this.stats.freeBytes -= size;
    } else {
      buffer = this.device.createBuffer({ size, usage: TENSOR_USAGE });
      this.stats.created++;
    }
    const seen = recent.indexOf(buffer);
    if (seen >= 0) recent.splice(seen, 1);
    recent.unshift(buffer);
    if (recent.length > REMEMBERED) recent.pop();
    this.position++;
    this.stats.liveBuffers++;
    this.stats.liveBytes += size;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.stats.liveBuffers--;
    this.stats.liveBytes -= buffer.size;
    if (this.recording) this.unsubmitted.add(buffer);
    this.recycle(buffer);
  }

  /** Called when the runtime opens a command encoder. */
  beginRecording(): void {
    this.recording = true;
  }

  private recycle(buffer: GPUBuffer): void {
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
    this.stats.freeBuffers++;
    this.stats.freeBytes += buffer.size;
  }

  /** Called right after a queue submit: what was released before it may now be written from the host too.
   * `endOfStep`: the submit ends a step (request positions restart), not one chunk of it. */
  afterSubmit(endOfStep = true): void {
    this.unsubmitted.clear();
    this.recording = false;
    if (endOfStep) this.position = 0;
  }

  /** Destroys idle buffers (e.g. between phases with different shapes). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.byPosition = [];
    this.stats.freeBuffers = 0;
    this.stats.freeBytes = 0;
  }

  getStats(): PoolStats {
    return { ...this.stats };
  }
}
