// Records the dispatches of a step into command encoders / compute passes, submitted in chunks (FIRST_SUBMIT
// dispatches after a flush, doubling to DISPATCHES_PER_SUBMIT) and on flush or readback.
import { BufferPool, Usage } from './pool.js';
import { getGpu, releaseGpu, checkDeviceAlive, type DeviceOptions, type GpuContext } from './device.js';
import { platform } from '../platform/platform.js';
import {
  kernelSource, packParams, ELEMENTWISE_WG, type AnyKernel, type Kernel, type ParamType, type Binding, type ConstType,
  type ParamValues, type BufferArgs, type ConstValues, type Reduction,
} from './kernel.js';

const MAX_WORKGROUPS_PER_DIM = 65535;
const UNIFORM_CACHE_LIMIT = 4096;
/** Bind groups kept for reuse: more than the ~550–700 dispatches of a training step. */
const BIND_GROUP_CACHE_LIMIT = 4096;
/** A step's recording is submitted in chunks of this many dispatches, so that the GPU runs the first while the CPU
 * records the rest (a 256² step on the H200: 42 ms of recording, all of it before the GPU started, as one submit). */
const DISPATCHES_PER_SUBMIT = 128;
/** The first chunk after a flush: the GPU, idle since the flush, starts once this many are recorded; each next chunk
 * doubles up to DISPATCHES_PER_SUBMIT. */
const FIRST_SUBMIT = 16;
/** WebGPU's upper bound on queries per query set. */
const QUERIES_PER_SET = 4096;

/** GPU time of one recorded dispatch, from timestamp queries. */
export interface DispatchTiming {
  label: string;
  ms: number;
}

/** Who a timed dispatch reports to: a timed() call (summed) or a profile (each dispatch). */
interface TimingOwner {
  ms: number;
  /** Dispatches recorded for this owner whose times have not arrived yet. */
  left: number;
  /** No more dispatches will be recorded for it. */
  closed: boolean;
  report: (ms: number) => void;
  each?: (label: string, ms: number) => void;
}

function deliver(o: TimingOwner, label: string, ms: number): void {
  o.ms += ms;
  o.each?.(label, ms);
  if (--o.left === 0 && o.closed) o.report(o.ms);
}

/** The shader and its variant (numbers, short strings, the flags that are on; not generated code): what a timed
 * dispatch is reported as. */
function pipelineLabel(shader: string, consts: Record<string, number | boolean | string>): string {
  const variant = Object.entries(consts).flatMap(([name, v]) => (v === true ? [name] : typeof v === 'number' || (typeof v === 'string' && v.length <= 8) ? [`${name}=${v}`] : []));
  return [shader, ...variant].join(' ');
}

/** Workgroup counts for n invocations of a 1-D kernel; the generated entry rebuilds the index as
 * gid.x + gid.y * nwg.x * WG. */
export function grid1d(n: number, workgroupSize: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / workgroupSize));
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(groups / y), y, 1];
}

export interface DispatchOptions<C extends Record<string, ConstType>> {
  /** Workgroup counts (not for elementwise kernels). */
  groups?: [number, number?, number?];
  /** Values of the description's constants. */
  consts?: ConstValues<C>;
  /** Reduction variant, for kernels that declare one. */
  reduction?: Reduction;
}

export class Runtime {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  private pipelines = new Map<string, GPUComputePipeline>();
  /** Each pipeline's bind group layout, fetched once when it is made: Dawn makes a new layout object on every
   * getBindGroupLayout call. */
  private layouts = new Map<GPUComputePipeline, GPUBindGroupLayout>();
  private uniforms = new Map<string, GPUBuffer>();
  /** Bind groups by pipeline and buffers (least recently used first): a repeated step binds the same buffers, and
   * creating its bind groups was 40 % of recording it. */
  private bindGroups = new Map<string, GPUBindGroup>();
  private objectIds = new WeakMap<object, number>();
  private nextObjectId = 0;
  /** Dispatches that reused a bind group, and that made one: for benchmarks. */
  bindGroupHits = 0;
  bindGroupMisses = 0;
  private retiredUniforms: GPUBuffer[] = [];
  private staging = new Map<number, GPUBuffer[]>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private firstError: string | null = null;
  private readFlush: Promise<void> | null = null;
  /** Dispatches recorded since the runtime started: for overhead accounting in benchmarks. */
  dispatchCount = 0;
  submitCount = 0;
  /** CPU time spent recording untimed dispatches whose pipeline and bind group already existed (the steady state of
   * a training loop), submits included, and how many: what one more dispatch costs the host (dispatchCostMs). */
  private recordingMs = 0;
  private recordedDispatches = 0;
  private dispatchesSinceSubmit = 0;
  /** Dispatches the current chunk takes before it is submitted. */
  private chunkSize = FIRST_SUBMIT;
  /** Nominal FLOPs of the convolution GEMMs recorded (2 per multiply-add over every kernel tap, zero padding
   * included, as PyTorch counts them; autotune trials excluded): benchmarks divide them by time. */
  convFlops = 0;
  /** Timestamp queries of the encoder being recorded: each timed dispatch owns two, in its own compute pass. */
  private queries: { sets: GPUQuerySet[]; slots: { label: string; owners: TimingOwner[] }[] } = { sets: [], slots: [] };
  /** Owners that the dispatches now being recorded report to (nested timed() calls, startTiming). */
  private timingOwners: TimingOwner[] = [];
  private profile: { timings: DispatchTiming[]; owner: TimingOwner; pending: Promise<void>[] } | null = null;

  /** Undoes the host's polling throttle (src/platform). */
  private readonly unthrottle: () => void;

  constructor(readonly gpu: GpuContext) {
    this.unthrottle = platform().throttleGpuPolling();
    this.device = gpu.device;
    this.pool = new BufferPool(this.device);
    this.device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.firstError ??= ev.error.message;
    };
  }

  /** Pipelines compiled so far: a step that compiles one is not yet a loop's steady state. */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  pipeline(k: AnyKernel, consts: Record<string, number | boolean | string> = {}, reduction?: Reduction): GPUComputePipeline {
    // The constants' values in their declared order (cheaper than JSON on every dispatch), NUL-separated: no WGSL
    // snippet holds one.
    let key = `${k.shader}\0${reduction ? `${reduction.kind}${reduction.wg}` : ''}`;
    for (const name in k.consts) key += `\0${consts[name]}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code = kernelSource(k, consts, reduction);
      if (code.startsWith('enable f16;')) this.requireF16(`${k.shader} with f16 storage`);
      const module = this.device.createShaderModule({ code, label: k.shader });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: pipelineLabel(k.shader, consts) });
      this.pipelines.set(key, p);
      this.layouts.set(p, p.getBindGroupLayout(0));
    }
    return p;
  }

  /** Throws, naming what needs it, unless the device has shader-f16 (f16 storage in kernels). */
  requireF16(what: string): void {
    if (!this.gpu.features.has('shader-f16')) throw new Error(`${what} is not supported on this adapter: ${this.gpu.adapterName} has no shader-f16`);
  }

  /** Identical parameter blocks recur every training step, so they are uploaded once and reused. */
  private uniformBuffer(params: ArrayBuffer): GPUBuffer {
    const key = String.fromCharCode(...new Uint16Array(params)); // the block's bytes as a string: a cheap exact key
    let buf = this.uniforms.get(key);
    if (buf) {
      this.uniforms.delete(key);
      this.uniforms.set(key, buf);
      return buf;
    }
    buf = this.device.createBuffer({ size: params.byteLength, usage: Usage.UNIFORM, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(params));
    buf.unmap();
    this.uniforms.set(key, buf);
    if (this.uniforms.size > UNIFORM_CACHE_LIMIT) {
      const [oldKey, old] = this.uniforms.entries().next().value as [string, GPUBuffer];
      this.uniforms.delete(oldKey);
      this.retiredUniforms.push(old); // may still be used by unsubmitted work
    }
    return buf;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder();
      this.pool.beginRecording();
    }
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.pass = this.commandEncoder().beginComputePass();
    }
    return this.pass;
  }

  /** Records one dispatch of kernel k: params at binding 0, the storage buffers at 1..n in the description's order
   * (an optional one left out is skipped). Elementwise kernels get their grid from p.n; others need `groups`. */
  dispatch<P extends Record<string, ParamType>, B extends Record<string, Binding>, C extends Record<string, ConstType>>(
    k: Kernel<P, B, C>,
    buffers: BufferArgs<B>,
    params: ParamValues<P>,
    opts: DispatchOptions<C> = {} as DispatchOptions<C>,
  ): void {
    const pipeline = this.pipeline(k, opts.consts ?? {}, opts.reduction);
    const start = performance.now();
    const [x, y = 1, z = 1] = k.entry === 'elementwise' ? grid1d((params as Record<string, number>).n, ELEMENTWISE_WG) : opts.groups ?? [0];
    if (!(x > 0)) throw new Error(`dispatch of ${k.shader}: workgroup counts needed`);
    if (x > MAX_WORKGROUPS_PER_DIM || y > MAX_WORKGROUPS_PER_DIM || z > MAX_WORKGROUPS_PER_DIM) {
      throw new Error(`dispatch of ${k.shader}: ${x}×${y}×${z} workgroups exceeds ${MAX_WORKGROUPS_PER_DIM} per dimension`);
    }
    const block = packParams(k, params);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuffer(block) } }];
    Object.keys(k.bindings).forEach((name, i) => {
      const bound = (buffers as Record<string, GPUBufferBinding | undefined>)[name];
      if (bound) entries.push({ binding: i + 1, resource: bound });
      else if (!(typeof k.bindings[name] === 'object' && (k.bindings[name] as { optional?: true }).optional)) {
        throw new Error(`dispatch of ${k.shader}: no buffer for binding ${name}`);
      }
    });
    const hits = this.bindGroupHits;
    const bindGroup = this.bindGroup(pipeline, entries);
    const reused = this.bindGroupHits > hits;
    const timed = this.timingOwners.length > 0;
    const pass = timed ? this.timedPass(pipeline.label) : this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (timed) this.endPass();
    this.dispatchCount++;
    if (++this.dispatchesSinceSubmit >= this.chunkSize) this.submit(false);
    if (!timed && reused) {
      this.recordingMs += performance.now() - start;
      this.recordedDispatches++;
    }
  }

  /** Mean host time to record one dispatch so far (0 before any): on a CPU-bound step (small maps, or any CPU
   * adapter) each extra dispatch costs about this much besides its GPU time. */
  dispatchCostMs(): number {
    return this.recordedDispatches > 0 ? this.recordingMs / this.recordedDispatches : 0;
  }

  /** A bind group of these entries for pipeline, reused when the same buffers were bound to it before. */
  private bindGroup(pipeline: GPUComputePipeline, entries: GPUBindGroupEntry[]): GPUBindGroup {
    let key = String(this.objectId(pipeline));
    for (const e of entries) {
      const { buffer, offset, size } = e.resource as GPUBufferBinding;
      // A range (a slice) differs from its whole buffer even at offset 0.
      key += `,${e.binding}:${this.objectId(buffer)}${size === undefined ? '' : `@${offset ?? 0}+${size}`}`;
    }
    // A destroyed buffer is never bound again, so entries holding one are never hit; eviction drops them.
    let group = this.bindGroups.get(key);
    if (group) {
      this.bindGroups.delete(key);
      this.bindGroupHits++;
    } else {
      group = this.device.createBindGroup({ layout: this.layouts.get(pipeline)!, entries });
      this.bindGroupMisses++;
      if (this.bindGroups.size >= BIND_GROUP_CACHE_LIMIT) this.bindGroups.delete(this.bindGroups.keys().next().value!);
    }
    this.bindGroups.set(key, group);
    return group;
  }

  private objectId(o: object): number {
    let id = this.objectIds.get(o);
    if (id === undefined) this.objectIds.set(o, (id = this.nextObjectId++));
    return id;
  }

  /** Whether GPU timings are available (the adapter has timestamp queries). */
  get canTime(): boolean {
    return this.gpu.features.has('timestamp-query');
  }

  /** Records fn's dispatches each in its own pass between timestamps (slower: for benchmarks and autotuning) and
   * reports their summed GPU time once the submit that contains them has run. */
  timed(fn: () => void, report: (ms: number) => void): void {
    if (!this.canTime) throw new Error(`this adapter (${this.gpu.adapterName}) has no timestamp queries`);
    const owner: TimingOwner = { ms: 0, left: 0, closed: false, report };
    this.timingOwners.push(owner);
    try {
      fn();
    } finally {
      this.timingOwners.splice(this.timingOwners.indexOf(owner), 1);
      owner.closed = true;
      if (owner.left === 0) report(0);
    }
  }

  /** From now on each dispatch is timed (see timed); stopTiming returns every dispatch's GPU time, in order. */
  startTiming(): void {
    if (!this.canTime) throw new Error(`this adapter (${this.gpu.adapterName}) has no timestamp queries`);
    if (this.profile) throw new Error('startTiming: already timing');
    this.flush();
    const timings: DispatchTiming[] = [];
    const owner: TimingOwner = { ms: 0, left: 0, closed: false, report: () => {}, each: (label, ms) => timings.push({ label, ms }) };
    this.profile = { timings, owner, pending: [] };
    this.timingOwners.push(owner);
  }

  async stopTiming(): Promise<DispatchTiming[]> {
    const prof = this.profile;
    if (!prof) throw new Error('stopTiming without startTiming');
    this.timingOwners.splice(this.timingOwners.indexOf(prof.owner), 1);
    this.flush();
    this.profile = null;
    await Promise.all(prof.pending);
    return prof.timings;
  }

  private timedPass(label: string): GPUComputePassEncoder {
    const q = this.queries;
    this.endPass();
    const index = (q.slots.length * 2) % QUERIES_PER_SET;
    if (index === 0) q.sets.push(this.device.createQuerySet({ type: 'timestamp', count: QUERIES_PER_SET }));
    // Every open owner gets the time (a profile around an autotune trial sees the trial's dispatches too).
    const owners = [...this.timingOwners];
    for (const o of owners) o.left++;
    q.slots.push({ label, owners });
    this.pass = this.commandEncoder().beginComputePass({
      timestampWrites: { querySet: q.sets.at(-1)!, beginningOfPassWriteIndex: index, endOfPassWriteIndex: index + 1 },
    });
    return this.pass;
  }

  /** Copies this encoder's timestamps out; the returned function starts reading them once the submit is issued. */
  private resolveTimings(encoder: GPUCommandEncoder): (() => void) | null {
    const q = this.queries;
    if (q.sets.length === 0) return null;
    this.queries = { sets: [], slots: [] };
    const reads = q.sets.map((set, i) => {
      const bytes = Math.min(QUERIES_PER_SET, q.slots.length * 2 - i * QUERIES_PER_SET) * 8;
      const resolved = this.device.createBuffer({ size: bytes, usage: 0x200 /* QUERY_RESOLVE */ | Usage.COPY_SRC });
      const staging = this.device.createBuffer({ size: bytes, usage: Usage.MAP_READ | Usage.COPY_DST });
      encoder.resolveQuerySet(set, 0, bytes / 8, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
      return async () => {
        await staging.mapAsync(1 /* GPUMapMode.READ */);
        const ns = Array.from(new BigUint64Array(staging.getMappedRange()), Number);
        for (const b of [staging, resolved, set]) b.destroy();
        for (let k = 0; k < ns.length; k += 2) {
          const slot = q.slots[(i * QUERIES_PER_SET + k) / 2];
          for (const o of slot.owners) deliver(o, slot.label, (ns[k + 1] - ns[k]) / 1e6);
        }
      };
    });
    return () => {
      const done = Promise.all(reads.map((read) => read())).then(() => {});
      this.profile?.pending.push(done);
    };
  }

  /** Copies between buffers inside the current step (ends the compute pass; the next dispatch opens a new one). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.submit(true);
  }

  /** Submits what is recorded without ending the step: buffers released before it can be handed out again. */
  submitChunk(): void {
    this.submit(false);
  }

  /** Submits what is recorded; `endOfStep` (a flush, not a chunk of a step) also restarts the pool's request
   * positions, which a repeated step then repeats. */
  private submit(endOfStep: boolean): void {
    checkDeviceAlive();
    this.endPass();
    if (this.encoder) {
      const readTimings = this.resolveTimings(this.encoder);
      this.device.queue.submit([this.encoder.finish()]);
      readTimings?.();
      this.encoder = null;
      this.submitCount++;
    }
    this.dispatchesSinceSubmit = 0;
    this.chunkSize = endOfStep ? FIRST_SUBMIT : Math.min(2 * this.chunkSize, DISPATCHES_PER_SUBMIT);
    this.pool.afterSubmit(endOfStep);
    for (const b of this.retiredUniforms) b.destroy();
    this.retiredUniforms = [];
    if (this.firstError) {
      const msg = this.firstError;
      this.firstError = null;
      throw new Error(`WebGPU validation error: ${msg}`);
    }
  }

  /** Writes data at the start of a binding (a buffer, or a range of one). */
  write({ buffer, offset = 0 }: GPUBufferBinding, data: ArrayBufferView): void {
    this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Submits pending work and reads bytes back. Reads started in the same tick (Promise.all over a step's losses)
   * share one submit: each records its copy, and the flush runs once they all have. */
  async read({ buffer, offset = 0 }: GPUBufferBinding, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const stagingList = this.staging.get(size) ?? [];
    const staging = stagingList.pop() ?? this.device.createBuffer({ size, usage: Usage.MAP_READ | Usage.COPY_DST });
    this.copy(buffer, offset, staging, 0, size);
    this.readFlush ??= Promise.resolve().then(() => {
      this.readFlush = null;
      this.flush();
    });
    await this.readFlush;
    await staging.mapAsync(1 /* GPUMapMode.READ */);
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    stagingList.push(staging);
    this.staging.set(size, stagingList);
    return out;
  }

  /** Waits until the GPU has finished all submitted work (benchmarks). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Ends the host's polling throttle; the device is destroyed by releaseRuntime. */
  dispose(): void {
    this.unthrottle();
  }
}

let runtime: Runtime | null = null;

/** Opens the GPU (once) and returns the runtime; every tensor operation needs this to have been awaited. */
export async function initGpu(opts: DeviceOptions = {}): Promise<Runtime> {
  if (!runtime) runtime = new Runtime(await getGpu(opts));
  return runtime;
}

export function rt(): Runtime {
  if (!runtime) throw new Error('GPU not initialised: call `await initGpu()` before creating tensors');
  return runtime;
}

/** Disposes the runtime and destroys its device (an embedding program is done with the engine); initGpu opens a
 * new one. */
export async function releaseRuntime(): Promise<void> {
  const r = runtime;
  runtime = null;
  r?.dispose();
  await releaseGpu();
}
