// Kernel descriptions: each WGSL computation is described once, here in TS — its uniform parameters (names and
// types, in order), its storage bindings, its compile-time constants and its workgroup shape. The Params struct,
// the binding declarations, the constants and the entry point (with the 1-D index preamble) are generated from the
// description when the pipeline is created, so shaders/NAME.wgsl holds only `fn kernel(…)` and its helpers, and
// the TS side passes parameters and buffers by name: a missing or misspelt name is a TS type error, a WGSL compile
// error, or a failure of test/graph/kernel.test.ts (which reads every shader against its description).
import { SHADERS } from './shaders.generated.js';

export type ParamType = 'u32' | 'i32' | 'f32' | 'vec4u' | 'vec4f';
export type Access = 'read' | 'read_write';
/** A storage binding: its access, its WGSL type (default array<f32>), and whether a dispatch may leave it out
 * (then the shader must not use it in that specialisation: the auto layout drops unused bindings). */
export type Binding = Access | { access: Access; type?: string; optional?: true };
/** Compile-time constants: u32 and bool become WGSL `const` declarations; code is a WGSL snippet substituted for
 * {{NAME}} in the shader (expressions of templated pointwise ops); float is a storage type, f32 or f16, declared as
 * `alias NAME = …;` for binding types such as `array<NAME>` (f16 enables the extension: the adapter's shader-f16). */
export type ConstType = 'u32' | 'bool' | 'code' | 'float';
export type FloatType = 'f32' | 'f16';
/** The built-in values an entry point may pass to `kernel(…)`, by the name the shader uses. */
export const BUILTINS = {
  gid: 'global_invocation_id) gid: vec3u',
  wid: 'workgroup_id) wid: vec3u',
  nwg: 'num_workgroups) nwg: vec3u',
  lid: 'local_invocation_index) lid: u32',
  lid3: 'local_invocation_id) lid3: vec3u',
} as const;
export type Builtin = keyof typeof BUILTINS;

/** 'elementwise': one invocation per element i < p.n, `fn kernel(i: u32)`, 256 per workgroup, a 1-D grid folded
 * into y past 65535 workgroups (dispatch derives it from p.n). Otherwise `fn kernel(<builtins>)` with the listed
 * built-ins in order, and the caller gives the workgroup counts. */
export type Entry = 'elementwise' | readonly Builtin[];

/** Workgroup-memory reduction `fn workgroupSum(lid: u32, v: T) -> T` over the whole workgroup (shaders/
 * workgroup_sum_*.wgsl): a subgroup sum where the workgroup is one subgroup, else a tree in workgroup memory. */
export type ReductionType = 'f32' | 'vec2f';
export interface Reduction {
  kind: 'tree' | 'subgroup';
  wg: number;
}

export interface KernelSpec<P extends Record<string, ParamType>, B extends Record<string, Binding>, C extends Record<string, ConstType>> {
  /** shaders/<shader>.wgsl, also the pipeline label (timings, errors). */
  shader: string;
  params: P;
  bindings: B;
  consts?: C;
  entry: Entry;
  /** Invocations per workgroup: a number, [x, y], or 'WG' for the constant of that name (declared by this
   * description, taken from the consts given at dispatch, or from the reduction). Elementwise kernels use 256. */
  workgroup?: number | readonly [number, number] | 'WG';
  reduction?: ReductionType;
  /** WGSL helpers shared by several kernels (shaders/<name>.wgsl), added before the computation. */
  includes?: readonly string[];
}

export interface Kernel<P extends Record<string, ParamType>, B extends Record<string, Binding>, C extends Record<string, ConstType>>
  extends Required<Omit<KernelSpec<P, B, C>, 'reduction'>> {
  reduction?: ReductionType;
  includes: readonly string[];
  /** Byte offset of each parameter in the uniform block, the block's size, and each parameter's name, type and
   * offset in 4-byte words (what packing a dispatch's block walks). */
  layout: { offsets: Record<string, number>; size: number; fields: [string, ParamType, number][] };
}

export type AnyKernel = Kernel<Record<string, ParamType>, Record<string, Binding>, Record<string, ConstType>>;

export type ParamValues<P extends Record<string, ParamType>> = { [K in keyof P]: P[K] extends 'vec4u' | 'vec4f' ? readonly number[] : number };
type IsOptional<T> = T extends { optional: true } ? true : false;
export type BufferArgs<B extends Record<string, Binding>> =
  { [K in keyof B as IsOptional<B[K]> extends true ? never : K]: GPUBufferBinding } &
  { [K in keyof B as IsOptional<B[K]> extends true ? K : never]?: GPUBufferBinding };
export type ConstValues<C extends Record<string, ConstType>> = {
  [K in keyof C]: C[K] extends 'bool' ? boolean : C[K] extends 'u32' ? number : C[K] extends 'float' ? FloatType : string
};

/** Invocations per workgroup of elementwise kernels. */
export const ELEMENTWISE_WG = 256;

const SIZE: Record<ParamType, number> = { u32: 4, i32: 4, f32: 4, vec4u: 16, vec4f: 16 };

/** WGSL's uniform layout: scalars aligned to 4 bytes, vec4 to 16; the block rounded up to 16 bytes. */
function uniformLayout(params: Record<string, ParamType>): Kernel<Record<string, ParamType>, Record<string, Binding>, Record<string, ConstType>>['layout'] {
  const offsets: Record<string, number> = {};
  const fields: [string, ParamType, number][] = [];
  let end = 0;
  for (const [name, type] of Object.entries(params)) {
    const at = Math.ceil(end / SIZE[type]) * SIZE[type];
    offsets[name] = at;
    fields.push([name, type, at / 4]);
    end = at + SIZE[type];
  }
  return { offsets, size: Math.max(16, Math.ceil(end / 16) * 16), fields };
}

/** Every kernel described so far (test/graph/kernel.test.ts checks each against its shader file). */
export const kernels: AnyKernel[] = [];

export function defineKernel<
  const P extends Record<string, ParamType>,
  const B extends Record<string, Binding>,
  const C extends Record<string, ConstType> = Record<never, ConstType>,
>(spec: KernelSpec<P, B, C>): Kernel<P, B, C> {
  if (spec.entry === 'elementwise' && spec.params.n !== 'u32') throw new Error(`kernel ${spec.shader}: elementwise kernels need a u32 parameter n`);
  const k: Kernel<P, B, C> = {
    ...spec,
    consts: spec.consts ?? ({} as C),
    includes: spec.includes ?? [],
    workgroup: spec.entry === 'elementwise' ? ELEMENTWISE_WG : spec.workgroup ?? ELEMENTWISE_WG,
    layout: uniformLayout(spec.params),
  };
  kernels.push(k as unknown as AnyKernel);
  return k;
}

/** The shader file's text with its includes (what a description's names must match). */
export function shaderText(k: AnyKernel): string {
  return [...k.includes, k.shader].map(readShader).join('\n');
}

/** The uniform block of one dispatch: every parameter of the description, at its offset. */
export function packParams(k: AnyKernel, values: Record<string, number | readonly number[]>): ArrayBuffer {
  const buf = new ArrayBuffer(k.layout.size);
  const u32 = new Uint32Array(buf);
  const f32 = new Float32Array(buf);
  for (const [name, type, at] of k.layout.fields) {
    const v = values[name];
    const words = SIZE[type] / 4;
    if (typeof v === 'number' && words === 1) {
      if (type === 'f32') f32[at] = v;
      else u32[at] = v >>> 0;
      continue;
    }
    if (v === undefined || typeof v === 'number' || v.length !== words || v.some((e) => typeof e !== 'number')) {
      throw new Error(`kernel ${k.shader}: parameter ${name} (${type}) needs ${words} number(s), got ${JSON.stringify(v)}`);
    }
    if (type === 'f32' || type === 'vec4f') f32.set(v, at);
    else u32.set(v.map((e) => e >>> 0), at);
  }
  return buf;
}

/** shaders/<name>.wgsl, embedded at build time (scripts/gen-shaders.mjs). */
function readShader(name: string): string {
  const src = SHADERS[name];
  if (src === undefined) throw new Error(`no shader shaders/${name}.wgsl in this build (run \`npm run build\`)`);
  return src;
}

function bindingDecl(name: string, b: Binding, index: number): string {
  const { access, type = 'array<f32>' } = typeof b === 'string' ? { access: b } : b;
  return `@group(0) @binding(${index}) var<storage, ${access}> ${name}: ${type};`;
}

/** The complete WGSL module of a kernel: generated declarations and entry point, then the shader file's
 * computation with {{NAME}} code snippets substituted. */
export function kernelSource(k: AnyKernel, consts: Record<string, number | boolean | string>, reduction?: Reduction): string {
  const out: string[] = [];
  const decls: string[] = [];
  const snippets: Record<string, string> = {};
  for (const [name, type] of Object.entries(k.consts)) {
    const v = consts[name];
    if (v === undefined) throw new Error(`kernel ${k.shader}: no value for constant ${name}`);
    if (type === 'code') snippets[name] = String(v);
    else if (type === 'float') {
      if (v !== 'f32' && v !== 'f16') throw new Error(`kernel ${k.shader}: constant ${name} must be f32 or f16, got ${v}`);
      if (v === 'f16' && !out.includes('enable f16;')) out.push('enable f16;');
      decls.push(`alias ${name} = ${v};`);
    } else if (type === 'bool') decls.push(`const ${name} = ${v === true};`);
    else decls.push(`const ${name} = ${Number(v)}u;`);
  }
  if (k.reduction && reduction?.kind === 'subgroup') out.push('enable subgroups;');
  const fields = Object.entries(k.params).map(([name, type]) => `${name}: ${type}`);
  out.push(...decls, `struct Params { ${fields.join(', ')} }`, '@group(0) @binding(0) var<uniform> p: Params;');
  Object.entries(k.bindings).forEach(([name, b], i) => out.push(bindingDecl(name, b, i + 1)));
  let wg: string;
  if (k.reduction) {
    if (!reduction) throw new Error(`kernel ${k.shader}: needs a reduction variant`);
    out.push(`const WG = ${reduction.wg}u;`, `var<workgroup> partial: array<${k.reduction}, WG>;`);
    out.push(readShader(`workgroup_sum_${reduction.kind}`).replaceAll('{{T}}', k.reduction));
    wg = 'WG';
  } else if (k.workgroup === 'WG') {
    if (!('WG' in k.consts)) throw new Error(`kernel ${k.shader}: workgroup 'WG' needs a constant WG`);
    wg = 'WG';
  } else {
    wg = typeof k.workgroup === 'number' ? String(k.workgroup) : k.workgroup.join(', ');
  }
  if (k.entry === 'elementwise') {
    out.push(
      `@compute @workgroup_size(${wg})`,
      'fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {',
      `  let i = gid.x + gid.y * nwg.x * ${ELEMENTWISE_WG}u;`,
      '  if (i >= p.n) { return; }',
      '  kernel(i);',
      '}',
    );
  } else {
    const args = k.entry.map((b) => `@builtin(${BUILTINS[b]}`);
    out.push(`@compute @workgroup_size(${wg})`, `fn main(${args.join(', ')}) {`, `  kernel(${k.entry.join(', ')});`, '}');
  }
  out.push(...k.includes.map(readShader));
  const body = readShader(k.shader).replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!(key in snippets)) throw new Error(`shader ${k.shader}: no code constant {{${key}}} in its description`);
    return snippets[key];
  });
  return `${out.join('\n')}\n\n${body}`;
}
