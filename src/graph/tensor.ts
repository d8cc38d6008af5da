// Float32 NCHW tensors on the GPU: shape checks, upload/download, reference-counted storage and scopes. f16 tensors
// are storage only (feature maps kept between layers): kernels that declare f16 bindings read and write them.
import { rt } from './runtime.js';
import type { FloatType } from './kernel.js';

export type Shape = readonly number[];
export type DType = FloatType;
const BYTES: Record<DType, number> = { f32: 4, f16: 2 };

/** What the autograd tape hangs on a tensor it produced; released when the tensor dies. */
export interface GradNodeRef {
  release(): void;
}

/** A pool buffer, or a range of another storage's buffer (a slice: an optimizer's parameter arena). */
class Storage {
  refs = 1;
  /** What kernels bind: the whole buffer, or the slice's range. */
  readonly binding: GPUBufferBinding;
  constructor(readonly buffer: GPUBuffer, readonly bytes: number, readonly offset = 0, private readonly parent: Storage | null = null) {
    // Storage bindings are sized in whole words; a slice's range is rounded up inside its aligned slot.
    this.binding = parent ? { buffer, offset, size: Math.ceil(bytes / 4) * 4 } : { buffer };
    parent?.retain();
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs > 0) return;
    if (this.parent) this.parent.release();
    else rt().pool.release(this.buffer);
  }
}

export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Where consecutive blocks of the given sizes (elements) start when each starts on the adapter's binding alignment,
 * so that each can be bound as a slice of one buffer; the last entry is the total. */
export function alignedOffsets(sizes: readonly number[]): number[] {
  const align = rt().gpu.limits.minStorageBufferOffsetAlignment / 4;
  const at = [0];
  for (const n of sizes) at.push(at[at.length - 1] + Math.ceil(n / align) * align);
  return at;
}

function checkShape(shape: Shape, what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${what}: shape must be a list of positive integers, got ${JSON.stringify(shape)}`);
  }
}

type Scope = Set<Tensor>;
const scopes: Scope[] = [];
let nextId = 0;

export class Tensor {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly size: number;
  requiresGrad = false;
  /** Accumulated gradient of a leaf that requires grad. */
  grad: Tensor | null = null;
  /** The tape node that produced this tensor, while its graph is alive. */
  node: GradNodeRef | null = null;
  /** Where a leaf's gradient goes: a zeroed tensor from its optimizer's gradient arena (src/autograd/adam.ts), so
   * that backward writes it there; null: a new tensor. */
  gradHome: (() => Tensor) | null = null;
  name: string | undefined;
  readonly dtype: DType;
  private storage: Storage;
  private refs = 1;
  private disposed = false;

  private constructor(shape: Shape, storage: Storage, dtype: DType) {
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this.dtype = dtype;
    this.storage = storage;
    scopes.at(-1)?.add(this);
  }

  /** Uninitialised tensor (its buffer may hold a previous tensor's data), to be written by GPU commands. */
  static empty(shape: Shape, dtype: DType = 'f32'): Tensor {
    return Tensor.allocate(shape, dtype, false);
  }

  /** `hostWrite`: filled by a queue write (which must not land in a buffer unsubmitted commands still read). */
  private static allocate(shape: Shape, dtype: DType, hostWrite: boolean): Tensor {
    checkShape(shape, 'Tensor.empty');
    const bytes = shapeSize(shape) * BYTES[dtype];
    const limit = rt().gpu.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new Error(`tensor ${fmtShape(shape)} needs ${bytes} bytes, above this adapter's binding limit of ${limit}; use smaller tiles or batches`);
    }
    return new Tensor(shape, new Storage(rt().pool.acquire(bytes, hostWrite), bytes), dtype);
  }

  static fromArray(data: ArrayLike<number>, shape: Shape): Tensor {
    checkShape(shape, 'Tensor.fromArray');
    if (data.length !== shapeSize(shape)) {
      throw new Error(`Tensor.fromArray: ${data.length} values given for shape ${fmtShape(shape)} (expected ${shapeSize(shape)})`);
    }
    const t = Tensor.allocate(shape, 'f32', true);
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
    rt().write(t.binding, f32);
    return t;
  }

  static fill(shape: Shape, value: number): Tensor {
    return Tensor.fromArray(new Float32Array(shapeSize(shape)).fill(value), shape);
  }

  static zeros(shape: Shape): Tensor {
    return Tensor.fill(shape, 0);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  describe(): string {
    return `tensor${this.name ? ` '${this.name}'` : ''} ${fmtShape(this.shape)}${this.dtype === 'f32' ? '' : ` ${this.dtype}`}`;
  }

  /** Bytes of its values (its buffer may be rounded up). */
  get bytes(): number {
    return this.size * BYTES[this.dtype];
  }

  private assertF32(what: string): void {
    if (this.dtype !== 'f32') throw new Error(`${what}: ${this.describe()} holds ${this.dtype} values; only kernels that declare ${this.dtype} bindings use it`);
  }

  /** What kernels bind (its buffer, or its range of an arena); throws if the user disposed this tensor, or if it
   * holds f16 values (kernels read f32 unless they declare the storage: an f16 map must never reach one that reads
   * f32 words). */
  get binding(): GPUBufferBinding {
    this.assertLive();
    this.assertF32('this operation');
    return this.storage.binding;
  }

  /** The binding of a tensor of any dtype, for kernels that declare its storage type (f16 maps). */
  get storageBinding(): GPUBufferBinding {
    this.assertLive();
    return this.storage.binding;
  }

  /** The binding even after the user's dispose, of any dtype (the forward that saved it bound it first): for backward
   * passes over tensors the tape still holds. */
  get savedBinding(): GPUBufferBinding {
    if (this.refs <= 0) throw new Error(`internal: ${this.describe()} was freed while the tape still needed it`);
    return this.storage.binding;
  }

  assertLive(what = 'operation'): void {
    if (this.disposed) throw new Error(`${what}: ${this.describe()} was disposed and can no longer be used`);
  }

  /** Overwrites the contents. Pending recorded work is submitted first: a queue write would otherwise land
   * before dispatches that were recorded earlier but not yet submitted. */
  writeData(data: ArrayLike<number>): void {
    this.assertLive('writeData');
    this.assertF32('writeData');
    if (data.length !== this.size) {
      throw new Error(`writeData: ${data.length} values given for ${this.describe()} (expected ${this.size})`);
    }
    rt().flush();
    rt().write(this.storage.binding, data instanceof Float32Array ? data : Float32Array.from(data));
  }

  async data(): Promise<Float32Array> {
    this.assertLive('data()');
    this.assertF32('data()');
    return new Float32Array(await rt().read(this.storage.binding, this.size * 4));
  }

  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): expected a tensor with one element, got ${fmtShape(this.shape)}`);
    return (await this.data())[0];
  }

  /** A view with another shape over the same storage (no copy). */
  view(shape: Shape): Tensor {
    this.assertLive('view');
    checkShape(shape, 'view');
    if (shapeSize(shape) !== this.size) {
      throw new Error(`view: cannot view ${this.describe()} (${this.size} elements) as ${fmtShape(shape)} (${shapeSize(shape)} elements)`);
    }
    this.storage.retain();
    return new Tensor(shape, this.storage, this.dtype);
  }

  /** A tensor over elements [offset, offset + size of shape) of this one's storage (no copy). Kernels bind it
   * as a range of the buffer, whose start the adapter requires aligned (minStorageBufferOffsetAlignment). */
  slice(offset: number, shape: Shape): Tensor {
    this.assertLive('slice');
    this.assertF32('slice');
    checkShape(shape, 'slice');
    const bytes = shapeSize(shape) * 4;
    const start = this.storage.offset + offset * 4;
    const align = rt().gpu.limits.minStorageBufferOffsetAlignment;
    if (!Number.isInteger(offset) || offset < 0 || offset + shapeSize(shape) > this.size || start % align !== 0) {
      throw new Error(`slice: elements ${offset}…${offset + shapeSize(shape) - 1} of ${this.describe()} are not a range that starts on a ${align}-byte boundary`);
    }
    return new Tensor(shape, new Storage(this.storage.buffer, bytes, start, this.storage), 'f32');
  }

  /** Copies this tensor's values into dest (as many elements, f32) and takes dest's storage as its own: a
   * parameter moves into its optimizer's arena and stays the same object for the modules that hold it. */
  moveInto(dest: Tensor): void {
    this.assertLive('moveInto');
    if (this.isShared() || dest.isShared()) throw new Error(`moveInto: ${this.describe()} or its destination is shared with a view; it cannot move`);
    if (this.dtype !== dest.dtype || this.size !== dest.size) throw new Error(`moveInto: ${this.describe()} does not fit ${dest.describe()}`);
    dest.copyFrom(this);
    this.storage.release();
    this.storage = dest.storage;
    dest.storage.retain();
    dest.dispose();
  }

  /** Overwrites this tensor with src's values (as many elements) in the current step: a copy, not a dispatch. */
  copyFrom(src: Tensor): void {
    this.assertF32('copyFrom'); // buffer copies move whole words
    if (src.bytes !== this.bytes) throw new Error(`copyFrom: ${src.describe()} does not fit ${this.describe()}`);
    const [from, to] = [src.savedBinding, this.binding];
    rt().copy(from.buffer, from.offset ?? 0, to.buffer, to.offset ?? 0, this.bytes);
  }

  /** Whether this tensor lies at elements [offset, offset + its size) of arena's storage. */
  isSliceOf(arena: Tensor, offset: number): boolean {
    return this.storage.buffer === arena.storage.buffer && this.storage.offset === arena.storage.offset + offset * 4 && this.dtype === arena.dtype;
  }

  /** Same storage, outside the autograd graph. */
  detach(): Tensor {
    return this.view(this.shape);
  }

  /** True when another tensor (a view) or holder can see this storage: writing it in place would change theirs. */
  isShared(): boolean {
    return this.refs > 1 || this.storage.refs > 1;
  }

  /** Used by the tape to keep saved tensors alive past the user's dispose. */
  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.storage.release();
    const node = this.node;
    this.node = null;
    node?.release();
  }

  /** Gives up the user's reference; the buffer returns to the pool once the tape no longer needs it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of scopes) s.delete(this);
    this.release();
  }

  /** Removes this tensor from the enclosing scopes so it outlives them. */
  keep(): this {
    for (const s of scopes) s.delete(this);
    return this;
  }
}

type Kept = Tensor | Kept[] | { [k: string]: Kept } | number | string | boolean | null | undefined | void;

function collect(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) value.forEach((v) => collect(v, into));
  else if (value && typeof value === 'object' && !(value instanceof Promise)) Object.values(value).forEach((v) => collect(v, into));
}

/** Runs fn and disposes every tensor created inside it except those it returns (and their grads). */
export function scope<T extends Kept>(fn: () => T): T {
  const s: Scope = new Set();
  scopes.push(s);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    for (const t of s) t.dispose();
    throw err;
  } finally {
    scopes.pop();
  }
  const keep = new Set<Tensor>();
  collect(result, keep);
  for (const t of s) {
    if (keep.has(t)) scopes.at(-1)?.add(t);
    else t.dispose();
  }
  return result;
}
