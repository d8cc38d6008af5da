// `comi export` end to end through the CLI: the ONNX file of a run reproduces the run's generator under
// onnxruntime (max |Δ| ≤ 1e-4), and bad runs are refused with one line and a non-zero exit.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { useGpu } from '../helpers/gpu.js';
import { runConfig, writeTestRun } from '../correct/helpers.js';
import { Tensor } from '../../src/graph/tensor.js';
import { noGrad } from '../../src/autograd/tape.js';
import { hashNormal } from '../../src/graph/random.js';
import type { ResnetGenerator } from '../../src/model/generator.js';

useGpu();
const ROOT = resolve(import.meta.dirname, '..', '..');
const dawnLog = (line: string) => line === '' || line.startsWith('Warning: ') || /^\s+at \S+ \(.*\.cpp:\d+\)$/.test(line);
function comi(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href, join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, COMI_DEBUG: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => !dawnLog(l)) };
}

let dir: string;
let run: string;
let g: ResnetGenerator;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'comi-export-'));
  run = join(dir, 'run-a');
  g = await writeTestRun(run, runConfig({ channels: 1, upsampling: 'resize', globalResidual: true }, { normalization: 'percentile', percentiles: { pLow: 1, pHigh: 99 } }));
});
afterAll(() => {
  g.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('comi export --format onnx', () => {
  it('writes RUN.onnx that onnxruntime runs like the engine', async () => {
    const out = join(dir, 'out');
    const r = comi('export', '--model', run, '--out', out);
    expect(r.stderr).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`wrote ${join(out, 'run-a.onnx')}\n`);
    const session = await ort.InferenceSession.create(readFileSync(join(out, 'run-a.onnx')));
    const shape = [1, 1, 36, 44];
    const x = Float32Array.from(hashNormal(36 * 44, 5, 0.5), Math.tanh);
    const { output } = await session.run({ input: new ort.Tensor('float32', x, shape) });
    const ours = await noGrad(() => g.forward(Tensor.fromArray(x, shape))).data();
    let m = 0;
    for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i] - (output.data as Float32Array)[i]));
    expect(m).toBeLessThanOrEqual(1e-4);
    expect(session.inputNames).toEqual(['input']);
  });

  it('refuses a run with no generator, an unknown format and missing flags: one line, non-zero exit', () => {
    const empty = join(dir, 'empty-run');
    mkdirSync(empty);
    const cases: [string[], RegExp, number][] = [
      [['--model', empty, '--out', join(dir, 'x')], /^comi export: .*empty-run has no generator\.safetensors: not a training run folder/, 1],
      [['--model', run, '--out', join(dir, 'x'), '--format', 'tflite'], /^comi export: --format must be one of onnx, bioimageio, got 'tflite'$/, 2],
      [['--out', join(dir, 'x')], /^comi export: --model RUN is required/, 2],
      [['--model', run, '--out', join(dir, 'x'), '--sample', 'a.png'], /^comi export: --sample is for --format bioimageio$/, 2],
      [['--model', run, '--out', join(dir, 'x'), '--format', 'bioimageio'], /^comi export: give --sample IMAGE for the test tensors: the run's training images \(\/nonexistent\/blurred\) are not available$/, 1],
    ];
    for (const [args, line, status] of cases) {
      const r = comi('export', ...args);
      expect(r.stderr).toHaveLength(1);
      expect(r.stderr[0]).toMatch(line);
      expect(r.status).toBe(status);
    }
    expect(readdirSync(dir)).not.toContain('x');
  });
});
