// Fused in-place Adam update of up to ADAM_GROUP parameters per dispatch (shaders/adam.wgsl); the optimizer class
// is src/autograd/adam.ts. The moments of all parameters live in two flat buffers.
import type { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { sameShape } from './check.js';

/** Parameters per dispatch: each needs two storage bindings (param, grad) beside the moments' two. */
export const ADAM_GROUP = 7;
const SLOTS = Array.from({ length: ADAM_GROUP }, (_, j) => j);
const optional = (access: 'read' | 'read_write') => ({ access, optional: true }) as const;

const ADAM = defineKernel({
  shader: 'adam',
  params: {
    n: 'u32', base: 'u32', ends0: 'vec4u', ends1: 'vec4u',
    beta1: 'f32', beta2: 'f32', oneMinusBeta1: 'f32', oneMinusBeta2: 'f32', stepSize: 'f32', bc2Sqrt: 'f32', eps: 'f32',
  },
  bindings: {
    m: 'read_write', v: 'read_write',
    ...(Object.fromEntries(SLOTS.map((j) => [`param${j}`, optional('read_write')])) as Record<`param${number}`, ReturnType<typeof optional>>),
    ...(Object.fromEntries(SLOTS.map((j) => [`grad${j}`, optional('read')])) as Record<`grad${number}`, ReturnType<typeof optional>>),
  },
  consts: { SEGMENTS: 'code' },
  entry: 'elementwise',
});

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step number t of this update (for the bias corrections 1−β^t). */
  step: number;
}

let forcedGroup: number | null = null;

/** Forces the parameters per dispatch (tests: the smaller groups of adapters with fewer storage bindings); null
 * restores the device's. */
export function setAdamGroupSize(n: number | null): void {
  if (n !== null && !(Number.isInteger(n) && n >= 1 && n <= ADAM_GROUP)) throw new Error(`setAdamGroupSize: expected 1…${ADAM_GROUP} or null, got ${n}`);
  forcedGroup = n;
}

/** Parameters per dispatch on this device (its storage-binding limit; WebGPU guarantees 8, so at least 3). */
export function adamGroupSize(): number {
  return forcedGroup ?? Math.min(ADAM_GROUP, Math.floor((rt().gpu.limits.maxStorageBuffersPerShaderStage - 2) / 2));
}

/** One step of torch.optim.Adam (weight_decay 0, amsgrad off) for params[j] with grads[j], in place; their moments
 * are m and v from element `base` on, the parameters' elements back to back. */
export function adamUpdate(params: Tensor[], grads: Tensor[], m: Tensor, v: Tensor, base: number, h: AdamHyper): void {
  if (params.length < 1 || params.length > adamGroupSize() || grads.length !== params.length) {
    throw new Error(`adamUpdate: expected 1…${adamGroupSize()} parameters with one gradient each, got ${params.length} and ${grads.length}`);
  }
  params.forEach((p, j) => sameShape('adamUpdate', p, grads[j]));
  const ends: number[] = [];
  for (const p of params) ends.push((ends.at(-1) ?? 0) + p.size);
  if (base + ends.at(-1)! > m.size || m.size !== v.size) throw new Error(`adamUpdate: moments of ${m.size} and ${v.size} elements do not hold elements ${base}…${base + ends.at(-1)! - 1}`);
  const segments = params.map((_, j) => {
    const start = j === 0 ? '0u' : `end(${j - 1}u)`;
    return `if (i < end(${j}u)) { let e = i - ${start}; param${j}[e] = step(i, param${j}[e], grad${j}[e]); return; }`;
  });
  const buffers: Record<string, GPUBuffer> = { m: m.buffer, v: v.buffer };
  params.forEach((p, j) => {
    buffers[`param${j}`] = p.buffer;
    buffers[`grad${j}`] = grads[j].buffer;
  });
  const padded = [...ends, ...Array(8 - ends.length).fill(0)];
  // Double precision on the CPU, as torch computes these Python floats.
  const stepSize = h.lr / (1 - h.beta1 ** h.step);
  const bc2Sqrt = Math.sqrt(1 - h.beta2 ** h.step);
  rt().dispatch(
    ADAM,
    buffers as { m: GPUBuffer; v: GPUBuffer },
    {
      n: ends.at(-1)!, base, ends0: padded.slice(0, 4), ends1: padded.slice(4),
      beta1: h.beta1, beta2: h.beta2, oneMinusBeta1: 1 - h.beta1, oneMinusBeta2: 1 - h.beta2, stepSize, bc2Sqrt, eps: h.eps,
    },
    { consts: { SEGMENTS: segments.join('\n  ') } },
  );
}
