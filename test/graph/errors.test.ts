// Bad calls fail early with messages that name what was expected and what was given.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useGpu } from '../helpers/gpu.js';
import { Tensor } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { Adam } from '../../src/autograd/adam.js';
import { add } from '../../src/kernels/binary.js';
import { tanh } from '../../src/kernels/unary.js';
import { mseLoss, l1Loss } from '../../src/kernels/losses.js';
import { conv2d } from '../../src/kernels/conv2d.js';

useGpu();

const ROOT = join(import.meta.dirname, '..', '..');

describe('bad calls name what was expected and what was given', () => {
  it('shape mismatch in add and mseLoss', () => {
    const a = Tensor.zeros([2, 3]);
    const b = Tensor.zeros([3, 2]);
    expect(() => add(a, b)).toThrow('add: shapes must match, got [2, 3] and [3, 2]');
    expect(() => mseLoss(a, b)).toThrow('mseLoss: shapes must match, got [2, 3] and [3, 2]');
    [a, b].forEach((t) => t.dispose());
  });

  it('a loss target that is neither a tensor nor a finite number', () => {
    const a = Tensor.zeros([2]);
    expect(() => l1Loss(a, NaN)).toThrow('l1Loss: target must be a Tensor or a finite number, got NaN');
    expect(() => l1Loss(a, undefined as unknown as number)).toThrow('l1Loss: expected a Tensor, got undefined');
    a.dispose();
  });

  it('wrong rank for an op that needs N, C, H, W', () => {
    const x = Tensor.zeros([3, 4, 6]);
    const w = Tensor.zeros([1, 4, 3, 3]);
    expect(() => conv2d(x, w, null)).toThrow('conv2d: input must have rank 4 (N, C, H, W), got [3, 4, 6]');
    x.dispose();
    w.dispose();
  });

  it('use of a disposed tensor', async () => {
    const x = Tensor.zeros([2, 2]);
    x.name = 'x';
    x.dispose();
    expect(() => tanh(x)).toThrow("tanh: tensor 'x' [2, 2] was disposed and can no longer be used");
    expect(() => x.view([4])).toThrow("view: tensor 'x' [2, 2] was disposed");
    await expect(x.data()).rejects.toThrow("data(): tensor 'x' [2, 2] was disposed");
    expect(() => new Adam([x], { lr: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8 })).toThrow("Adam: tensor 'x' [2, 2] was disposed");
  });

  it('Tensor.fromArray with the wrong number of values', () => {
    expect(() => Tensor.fromArray([1, 2, 3, 4, 5], [2, 3])).toThrow('Tensor.fromArray: 5 values given for shape [2, 3] (expected 6)');
  });

  it('backward on a non-scalar', () => {
    const x = Tensor.zeros([2, 3]);
    x.requiresGrad = true;
    const y = tanh(x);
    expect(() => backward(y)).toThrow('backward: expected a scalar loss, got [2, 3]');
    [x, y].forEach((t) => t.dispose());
  });

  it('Adam with out-of-range hyperparameters', () => {
    const p = Tensor.zeros([2]);
    expect(() => new Adam([p], { lr: 1e-3, beta1: 1, beta2: 0.999, eps: 1e-8 })).toThrow('Adam: beta1 must be in [0, 1), got 1');
    expect(() => new Adam([p], { lr: -1, beta1: 0.5, beta2: 0.999, eps: 1e-8 })).toThrow('Adam: lr must be >= 0, got -1');
    p.dispose();
  });
});

describe('no WebGPU adapter', () => {
  // Dawn's own native diagnostics ("Warning: …", with a "    at Fn (file.cpp:N)" line) go straight to stderr from
  // C++ and cannot be silenced from JavaScript; everything else on stderr is ours.
  const dawnLog = (line: string) => line === '' || line.startsWith('Warning: ') || /^\s+at \S+ \(.*\.cpp:\d+\)$/.test(line);

  /** A child node process that opens the GPU the way the CLI does (runMain: one line, exit code 1). */
  function runChild(env: Record<string, string>) {
    const src = (p: string) => pathToFileURL(join(ROOT, 'src', p)).href;
    const script = [
      `import '${src('platform/node.js')}';`,
      `import { runMain } from '${src('cli/errors.js')}';`,
      `import { initGpu } from '${src('graph/runtime.js')}';`,
      `await runMain('comi', async () => { await initGpu(); });`,
      'process.exit(process.exitCode ?? 0);',
    ].join('\n');
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.COMI_DEBUG;
    delete childEnv.COMI_BACKEND;
    const r = spawnSync(
      process.execPath,
      ['--import', pathToFileURL(join(import.meta.dirname, 'ts-loader.mjs')).href, '--input-type=module', '-e', script],
      { env: childEnv, encoding: 'utf8', timeout: 60_000 },
    );
    return { status: r.status, stdout: r.stdout, ours: r.stderr.split('\n').filter((l) => !dawnLog(l)) };
  }

  it('an unknown adapter name exits 1 with one line naming it, the adapters Dawn has and the fix: one of those', () => {
    const r = runChild({ COMI_ADAPTER: 'no-such-adapter' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.ours, `stderr lines besides Dawn's:\n${r.ours.join('\n')}`).toHaveLength(1);
    // Where Dawn lists no adapter at all, a driver is what is missing.
    const fix = /Dawn has: /.test(r.ours[0]) ? /: name one of the adapters Dawn has \(COMI_ADAPTER, or the adapter option\), or none$/ : /: install a Vulkan driver; .*scripts\/install-vulkan-cpu\.sh/;
    expect(r.ours[0]).toMatch(/^comi: no WebGPU adapter found \(adapter 'no-such-adapter'.*\): /);
    expect(r.ours[0]).toMatch(fix);
  });

  it('no Vulkan driver at all exits 1 with the same one-line fix', () => {
    const r = runChild({ VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(r.status).toBe(1);
    expect(r.ours, `stderr lines besides Dawn's:\n${r.ours.join('\n')}`).toHaveLength(1);
    expect(r.ours[0]).toMatch(/^comi: no WebGPU adapter found: install a Vulkan driver; .*scripts\/install-vulkan-cpu\.sh/);
  });
});
