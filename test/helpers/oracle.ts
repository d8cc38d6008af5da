// Loads PyTorch fixtures written by scripts/make-fixtures.py and measures relative error against them.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { hash32, hashUniform } from '../../src/graph/random.js';
import { Tensor } from '../../src/graph/tensor.js';

const ROOT = join(import.meta.dirname, '..', 'fixtures');
const SAMPLE_LIMIT = 65536;
const SAMPLE_SEED = 0x5a3b1e;

export interface FixtureInput { shape: number[]; seed: number; scale: number }
export interface FixtureOutput { shape: number[]; maxAbs: number; sampled?: boolean; values: Float32Array }
export interface Fixture {
  op: string;
  case: string;
  params: Record<string, any>;
  inputs: Record<string, FixtureInput>;
  outputs: Record<string, FixtureOutput>;
}

export function fixtureCases(group: string): string[] {
  const dir = join(ROOT, group);
  if (!existsSync(dir)) throw new Error(`no fixtures for ${group}: run /usr/bin/python3 scripts/make-fixtures.py ${group}`);
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export function loadFixture(group: string, name: string): Fixture {
  const doc = JSON.parse(readFileSync(join(ROOT, group, `${name}.json`), 'utf8'));
  for (const out of Object.values<any>(doc.outputs)) {
    const bytes = Buffer.from(out.values, 'base64');
    out.values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return doc as Fixture;
}

/** The fixture's input regenerated from its seed (identical to the tensor PyTorch saw). */
export function inputData(spec: FixtureInput): Float32Array {
  return hashUniform(spec.shape.reduce((a, b) => a * b, 1), spec.seed, spec.scale);
}

export function inputTensor(fx: Fixture, name: string, requiresGrad = false): Tensor {
  const spec = fx.inputs[name];
  if (!spec) throw new Error(`fixture ${fx.op}/${fx.case} has no input ${name}`);
  const t = Tensor.fromArray(inputData(spec), spec.shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/** max |ours − torch| / max |torch| over the stored values (all of them, or the hashed sample of a large tensor). */
export function relError(ours: Float32Array, ref: FixtureOutput): number {
  const n = ref.shape.reduce((a, b) => a * b, 1);
  if (ours.length !== n) throw new Error(`size mismatch: ours ${ours.length}, torch ${n} (${ref.shape})`);
  let maxDiff = 0;
  for (let k = 0; k < ref.values.length; k++) {
    const i = ref.sampled ? hash32(k, SAMPLE_SEED) % n : k;
    const d = Math.abs(ours[i] - ref.values[k]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
  }
  return maxDiff / Math.max(ref.maxAbs, 1e-30);
}

export { SAMPLE_LIMIT };
