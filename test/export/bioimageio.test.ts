// `comi export --format bioimageio`: the package's rdf.yaml passes the bioimage.io JSON schema (format 0.5), every
// file it names is in the zip with the right sha256, and its test tensors reproduce through onnxruntime when the
// declared preprocessing is applied by this test's own implementation of the spec's steps.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { parse } from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as ort from 'onnxruntime-node';
import { useGpu } from '../helpers/gpu.js';
import { runConfig, writeTestRun } from '../correct/helpers.js';
import { writeImage, type Image } from '../../src/data/image.js';
import { hash32 } from '../../src/graph/random.js';
import { exportRun } from '../../src/export/export.js';
import { readTorchStateDict } from '../../src/weights/torch.js';
import type { ResnetGenerator } from '../../src/model/generator.js';

useGpu();
const SCHEMA = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'bioimageio', 'bioimageio_schema.json'), 'utf8'));
const ajv = new Ajv2020.default({ strict: false, allErrors: true, discriminator: false });
addFormats.default(ajv);
const validate = ajv.compile(SCHEMA);

function readNpy(bytes: Uint8Array): { shape: number[]; data: Float32Array; descr: string } {
  const len = bytes[8] | (bytes[9] << 8);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + len));
  const descr = /'descr': '([^']+)'/.exec(header)![1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').filter((s) => s.trim()).map(Number);
  const body = bytes.slice(10 + len);
  const raw = descr === '<f4' ? new Float32Array(body.buffer) : descr === '<u2' ? new Uint16Array(body.buffer) : new Uint8Array(body.buffer);
  return { shape, data: Float32Array.from(raw), descr };
}

/** numpy.percentile's default (linear interpolation), as bioimageio.core's scale_range computes it. */
function percentile(sorted: Float32Array, p: number): number {
  const r = (p / 100) * (sorted.length - 1);
  const k = Math.floor(r);
  return k + 1 < sorted.length ? sorted[k] + (sorted[k + 1] - sorted[k]) * (r - k) : sorted[k];
}

type Step = { id: string; kwargs?: Record<string, number & string[]> };
function applySteps(x: Float32Array, steps: Step[]): Float32Array {
  let y = Float32Array.from(x);
  for (const s of steps) {
    if (s.id === 'ensure_dtype') continue;
    if (s.id === 'scale_linear') y = y.map((v) => v * s.kwargs!.gain + s.kwargs!.offset);
    else if (s.id === 'scale_range') {
      expect(s.kwargs!.axes).toEqual(['channel', 'y', 'x']); // one sample: all of it
      const sorted = Float32Array.from(y).sort();
      const lo = percentile(sorted, s.kwargs!.min_percentile);
      const hi = percentile(sorted, s.kwargs!.max_percentile);
      y = y.map((v) => (v - lo) / (hi - lo + 1e-6));
    } else throw new Error(`unexpected step ${s.id}`);
  }
  return y;
}

function sample(w: number, h: number, c: 1 | 3, bitDepth: 8 | 16): Image {
  const n = w * h * c;
  const max = bitDepth === 8 ? 255 : 65535;
  // Blobs a few pixels wide (what deconvolution sharpens) with grain; i = (y·w + x)·c + channel.
  const v = (i: number) => {
    const x = Math.floor(i / c) % w;
    const y = Math.floor(i / (c * w));
    return Math.round(max * (0.45 + 0.3 * Math.sin(x / 5 + (i % c)) * Math.cos(y / 7))) + (hash32(i, 9) % 64);
  };
  const data = bitDepth === 8 ? Uint8Array.from({ length: n }, (_, i) => Math.min(255, v(i))) : Uint16Array.from({ length: n }, (_, i) => v(i));
  return { width: w, height: h, channels: c, bitDepth, data };
}

let dir: string;
const gens: ResnetGenerator[] = [];
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'comi-bioimageio-'))));
afterAll(() => {
  for (const g of gens) g.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const CASES = [
  { label: '16-bit gray, percentile normalisation, resize + global residual', channels: 1 as const, bits: 16 as const, size: [300, 150],
    model: { upsampling: 'resize' as const, globalResidual: true }, data: { normalization: 'percentile' as const, percentiles: { pLow: 1, pHigh: 99.5 } },
    // Output in [0, 1] (half the network's [−1, 1]): the ONNX/engine bound of 1e-4 becomes 5e-5; 1e-4 stated.
    tol: 1e-4 },
  { label: '8-bit RGB, auto normalisation (/255), paper generator', channels: 3 as const, bits: 8 as const, size: [90, 70],
    model: { upsampling: 'transpose' as const, globalResidual: false }, data: { normalization: 'auto' as const },
    // Output in 0…255: the 1e-4 bound on [−1, 1] scaled by 127.5.
    tol: 127.5e-4 },
  { label: '16-bit gray with a Richardson–Lucy input stage (train --rl-input), computed inside the ONNX graph', channels: 1 as const, bits: 16 as const,
    size: [120, 84], model: { upsampling: 'resize' as const, globalResidual: true, rlInput: { sigma: 1.5, iterations: 5 } },
    data: { normalization: 'percentile' as const, percentiles: { pLow: 0.1, pHigh: 99.9 } }, tol: 1e-4 },
  { label: '16-bit gray binned 2×2 with a Richardson–Lucy stage (train --bin 2 --rl-input), both inside the ONNX graph', channels: 1 as const, bits: 16 as const,
    size: [131, 98], model: { upsampling: 'resize' as const, globalResidual: true, rlInput: { sigma: 1.5, iterations: 5 } },
    data: { normalization: 'percentile' as const, percentiles: { pLow: 0.1, pHigh: 99.9 }, bin: 2 }, tol: 1e-4 },
];

describe('bioimage.io package', () => {
  for (const [index, c] of CASES.entries()) {
    it(`${c.label}: schema-valid rdf.yaml, files with their sha256, test tensors reproduce through onnxruntime`, async () => {
      const run = join(dir, `run-${index}`);
      gens.push(await writeTestRun(run, runConfig({ channels: c.channels, ...c.model }, c.data)));
      const samplePath = join(dir, `sample-${index}.${c.bits === 8 ? 'png' : 'tif'}`);
      await writeImage(samplePath, sample(c.size[0], c.size[1], c.channels, c.bits));
      const res = await exportRun({ model: run, out: join(dir, 'out'), format: 'bioimageio', sample: samplePath });
      expect(res.files).toEqual([join(dir, 'out', `run-${index}.bioimageio.zip`)]);
      const files = unzipSync(readFileSync(res.files[0]));
      expect(Object.keys(files).sort()).toEqual(['README.md', 'comi_generator.py', 'cover.png', 'rdf.yaml', 'test_input.npy', 'test_output.npy', 'weights.onnx', 'weights.pt']);
      const rdf = parse(new TextDecoder().decode(files['rdf.yaml']));

      const ok = validate(rdf);
      expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
      // The schema is strict enough to catch a broken description.
      expect(validate({ ...rdf, inputs: [{ ...rdf.inputs[0], preprocessing: [{ id: 'scale_range', kwargs: { min_percentile: 'low' } }] }] })).toBe(false);
      expect(validate({ ...rdf, weights: { onnx: { source: 'weights.onnx' } } })).toBe(false);
      expect(rdf.format_version).toMatch(/^0\.5\./);
      expect(rdf.cite[0].text).toContain('Correction of out-of-focus microscopic images by deep learning');
      expect(rdf.weights.onnx.opset_version).toBeGreaterThanOrEqual(17);
      expect(rdf.config.comi.model.upsampling).toBe(c.model.upsampling);
      // The PyTorch architecture builds the same stage (scripts/check-bioimageio.py runs it against the test tensors).
      const rl = 'rlInput' in c.model ? c.model.rlInput : undefined;
      const bin = 'bin' in c.data ? c.data.bin : 1;
      const kwargs = rdf.weights.pytorch_state_dict.architecture.kwargs;
      expect([kwargs.rl_sigma, kwargs.rl_iterations, kwargs.bin]).toEqual([rl?.sigma, rl?.iterations, bin > 1 ? bin : undefined]);
      // σ 1.5 px: an 11-pixel PSF, so the smallest multiple of 4 above it, in binned pixels.
      expect(rdf.inputs[0].axes[2].size).toEqual({ min: bin * (rl ? 12 : 8), step: 4 * bin });
      const sha = (name: string) => createHash('sha256').update(files[name]).digest('hex');
      expect(rdf.weights.onnx.sha256).toBe(sha('weights.onnx'));
      expect(rdf.inputs[0].test_tensor.sha256).toBe(sha('test_input.npy'));
      expect(rdf.outputs[0].test_tensor.sha256).toBe(sha('test_output.npy'));
      expect(rdf.weights.pytorch_state_dict.sha256).toBe(sha('weights.pt'));
      expect(rdf.weights.pytorch_state_dict.architecture.sha256).toBe(sha('comi_generator.py'));
      // The PyTorch weights hold exactly the generator's tensors (read back by our torch.load-compatible reader).
      const torch = readTorchStateDict(files['weights.pt'], 'weights.pt');
      const state = await gens[gens.length - 1].stateDict();
      expect([...torch.keys()]).toEqual(Object.keys(state));
      for (const [k, t] of torch) {
        expect(t.shape).toEqual(state[k].shape);
        expect(t.read()).toEqual(state[k].data);
      }

      const input = readNpy(files['test_input.npy']);
      const expected = readNpy(files['test_output.npy']);
      const h = Math.min(256 - (256 % (4 * bin)), c.size[1] - (c.size[1] % (4 * bin)));
      const w = Math.min(256 - (256 % (4 * bin)), c.size[0] - (c.size[0] % (4 * bin)));
      expect(input.shape).toEqual([1, c.channels, h, w]);
      expect(input.descr).toBe(c.bits === 8 ? '|u1' : '<u2');
      expect(expected.shape).toEqual(input.shape);
      const session = await ort.InferenceSession.create(files['weights.onnx']);
      const x = applySteps(input.data, rdf.inputs[0].preprocessing);
      const { output } = await session.run({ input: new ort.Tensor('float32', x, input.shape) });
      const y = applySteps(output.data as Float32Array, rdf.outputs[0].postprocessing);
      let m = 0;
      for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i] - expected.data[i]));
      expect(m).toBeLessThanOrEqual(c.tol);
      const spread = Math.max(...expected.data) - Math.min(...expected.data);
      expect(spread).toBeGreaterThan(50 * c.tol); // the tensors carry an image, not a constant
    });
  }

  it('without --sample and without the run\'s training images: one clear error', async () => {
    const run = join(dir, 'run-1');
    await expect(exportRun({ model: run, out: join(dir, 'out2'), format: 'bioimageio' })).rejects.toThrow(
      "give --sample IMAGE for the test tensors: the run's training images (/nonexistent/blurred) are not available",
    );
  });
});
