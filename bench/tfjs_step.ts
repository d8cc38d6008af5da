// Optional comparison with TensorFlow.js (tfjs-backend-webgpu 4.22, devDependencies) on the same Dawn bindings:
// the CycleGAN step of bench/step.ts — two ResNet generators (9 blocks, instance norm, reflection pads, transposed
// convs), two 70×70 PatchGANs, LSGAN + 0.001·L1 cycle losses, G update then D update with Adam(1e-4, 0.5, 0.99) —
// built in tfjs (NHWC), then our engine on the same configuration, back to back in one process.
//   node dist/bench/tfjs_step.js [--configs 64:16,128:32] [--reps 2]
// tfjs gets navigator.gpu from npm `webgpu`'s create(); both stacks share the process (and the throttled Dawn
// event polling our runtime installs, so neither busy-polls).
import { create, globals } from 'webgpu';
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchGpu, timeWall, saveSection, fmt, flag, RESULTS_DIR } from './harness.js';
import { measureStep } from './step.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type T4 = import('@tensorflow/tfjs-core').Tensor4D;
type Var = import('@tensorflow/tfjs-core').Variable;

let dawnForTfjs: GPU | null = null; // kept referenced for the life of the process (Dawn crashes if collected)

async function loadTfjs(): Promise<Tf> {
  Object.assign(globalThis, globals);
  dawnForTfjs = create([]) as unknown as GPU;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawnForTfjs, userAgent: 'node' }, configurable: true });
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  // The gradients ship only as ES modules (see tfjs-esm-hooks.mjs, next to this file's source).
  register(pathToFileURL(join(RESULTS_DIR, '..', 'tfjs-esm-hooks.mjs')).href);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js' as string);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend did not initialise on Dawn');
  await tf.ready();
  return tf;
}

/** The networks' parameters as tfjs variables, N(0, 0.02) weights and zero biases (CycleGAN's init). */
class Params {
  readonly vars: Var[] = [];
  constructor(private tf: Tf, private seed: number) {}
  /** Weight [kh, kw, a, b] and a bias for `outputs` channels (b for a conv; a for a conv2dTranspose filter). */
  conv(kh: number, kw: number, a: number, b: number, outputs = b): { w: Var; b: Var } {
    const w = this.tf.variable(this.tf.randomNormal([kh, kw, a, b], 0, 0.02, 'float32', this.seed++));
    const bias = this.tf.variable(this.tf.zeros([outputs]));
    this.vars.push(w, bias);
    return { w, b: bias };
  }
}

function instanceNorm(tf: Tf, x: T4): T4 {
  const { mean, variance } = tf.moments(x, [1, 2], true);
  return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))) as T4;
}

/** PyTorch-style zero padding p then a valid convolution (tfjs 'same' pads asymmetrically at stride 2). */
function conv(tf: Tf, x: T4, p: { w: Var; b: Var }, stride: number, pad: number): T4 {
  const padded = pad ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
  return tf.add(tf.conv2d(padded, p.w as unknown as T4, stride, 'valid'), p.b) as T4;
}

const reflect = (tf: Tf, x: T4, p: number) => tf.mirrorPad(x, [[0, 0], [p, p], [p, p], [0, 0]], 'reflect');

function generator(tf: Tf, params: Params, c: number, ngf: number, blocks: number): (x: T4) => T4 {
  const stem = params.conv(7, 7, c, ngf);
  const down = [params.conv(3, 3, ngf, 2 * ngf), params.conv(3, 3, 2 * ngf, 4 * ngf)];
  const res = Array.from({ length: blocks }, () => [params.conv(3, 3, 4 * ngf, 4 * ngf), params.conv(3, 3, 4 * ngf, 4 * ngf)]);
  // conv2dTranspose filters are [kh, kw, out, in].
  const up = [params.conv(3, 3, 2 * ngf, 4 * ngf, 2 * ngf), params.conv(3, 3, ngf, 2 * ngf, ngf)];
  const head = params.conv(7, 7, ngf, c);
  return (x) => {
    let h = tf.relu(instanceNorm(tf, conv(tf, reflect(tf, x, 3), stem, 1, 0)));
    for (const d of down) h = tf.relu(instanceNorm(tf, conv(tf, h, d, 2, 1)));
    for (const [a, b] of res) {
      const t = tf.relu(instanceNorm(tf, conv(tf, reflect(tf, h, 1), a, 1, 0)));
      h = tf.add(h, instanceNorm(tf, conv(tf, reflect(tf, t, 1), b, 1, 0)));
    }
    for (const u of up) {
      const [n, hh, ww] = h.shape;
      const out = u.w.shape[2]!;
      h = tf.relu(instanceNorm(tf, tf.add(tf.conv2dTranspose(h, u.w as unknown as T4, [n, 2 * hh, 2 * ww, out], 2, 'same'), u.b) as T4));
    }
    return tf.tanh(conv(tf, reflect(tf, h, 3), head, 1, 0));
  };
}

function discriminator(tf: Tf, params: Params, c: number, ndf: number): (x: T4) => T4 {
  const l = [params.conv(4, 4, c, ndf), params.conv(4, 4, ndf, 2 * ndf), params.conv(4, 4, 2 * ndf, 4 * ndf), params.conv(4, 4, 4 * ndf, 8 * ndf), params.conv(4, 4, 8 * ndf, 1)];
  return (x) => {
    let h = tf.leakyRelu(conv(tf, x, l[0], 2, 1), 0.2);
    h = tf.leakyRelu(instanceNorm(tf, conv(tf, h, l[1], 2, 1)), 0.2);
    h = tf.leakyRelu(instanceNorm(tf, conv(tf, h, l[2], 2, 1)), 0.2);
    h = tf.leakyRelu(instanceNorm(tf, conv(tf, h, l[3], 1, 1)), 0.2);
    return conv(tf, h, l[4], 1, 1);
  };
}

/** One CycleGAN iteration; returns once both losses are read back. */
function cycleGanStep(tf: Tf, size: number, ngf: number, channels = 3): () => Promise<number> {
  const pg = new Params(tf, 1);
  const pd = new Params(tf, 1000);
  const gS = generator(tf, pg, channels, ngf, 9);
  const gT = generator(tf, pg, channels, ngf, 9);
  const dT = discriminator(tf, pd, channels, ngf);
  const dS = discriminator(tf, pd, channels, ngf);
  const optG = tf.train.adam(1e-4, 0.5, 0.99, 1e-8);
  const optD = tf.train.adam(1e-4, 0.5, 0.99, 1e-8);
  const realS = tf.randomUniform([1, size, size, channels], -1, 1, 'float32', 11) as T4;
  const realT = tf.randomUniform([1, size, size, channels], -1, 1, 'float32', 12) as T4;
  const mse = (x: T4, target: number) => tf.mean(tf.square(tf.sub(x, target)));
  const l1 = (x: T4, y: T4) => tf.mean(tf.abs(tf.sub(x, y)));
  return async () => {
    let fakeT: T4 | null = null;
    let fakeS: T4 | null = null;
    const gLoss = optG.minimize(() => {
      const ft = gS(realS);
      const fs = gT(realT);
      fakeT = tf.keep(ft);
      fakeS = tf.keep(fs);
      const adv = tf.add(mse(dT(ft), 1), mse(dS(fs), 1));
      const cycle = tf.add(l1(gT(ft), realS), l1(gS(fs), realT));
      return tf.add(adv, tf.mul(cycle, 0.001)) as import('@tensorflow/tfjs-core').Scalar;
    }, true, pg.vars)!;
    const dLoss = optD.minimize(() => {
      const lt = tf.mul(tf.add(mse(dT(realT), 1), mse(dT(fakeT!), 0)), 0.5);
      const ls = tf.mul(tf.add(mse(dS(realS), 1), mse(dS(fakeS!), 0)), 0.5);
      return tf.add(lt, ls) as import('@tensorflow/tfjs-core').Scalar;
    }, true, pd.vars)!;
    const [g, d] = await Promise.all([gLoss.data(), dLoss.data()]);
    for (const t of [gLoss, dLoss, fakeT!, fakeS!]) t.dispose();
    return g[0] + d[0];
  };
}

async function main(): Promise<void> {
  const r = await benchGpu();
  const tf = await loadTfjs();
  const configs = flag('configs', '64:16,128:32').split(',').map((c) => c.split(':').map(Number));
  const reps = Number(flag('reps', '2'));
  const rows: { size: number; ngf: number; tfjsMs: number; tfjsAll: number[]; oursMs: number; oursAll: number[] }[] = [];
  for (const [size, ngf] of configs) {
    const step = cycleGanStep(tf, size, ngf);
    const t = await timeWall(step, 1, reps);
    tf.disposeVariables();
    const ours = await measureStep(size, ngf, false, reps);
    rows.push({ size, ngf, tfjsMs: t.ms, tfjsAll: t.all, oursMs: ours.ms, oursAll: ours.all });
    console.log(`  ${size}²/ngf ${ngf}: tfjs ${fmt(t.ms, 0)} ms, ours ${fmt(ours.ms, 0)} ms, ${fmt(t.ms / ours.ms, 1)}× faster`);
  }
  saveSection('tfjs', {
    title: 'Training step against TensorFlow.js 4.22 (tfjs-backend-webgpu) on the same Dawn bindings',
    notes: [
      'Same networks, losses (LSGAN + 0.001·L1 cycle, no content loss), optimiser and update order, 3 channels, batch 1, ndf = ngf; measured back to back in one process, wall time per step after one warm-up step.',
      "tfjs pads its stride-2 transposed convolutions with 'same' (output aligned one pixel differently from PyTorch's padding 1 / output padding 1): same shapes and FLOPs.",
    ],
    table: {
      head: ['size', 'ngf', 'tfjs ms', 'ours ms', 'speed-up'],
      rows: rows.map((x) => [`${x.size}²`, x.ngf, `${fmt(x.tfjsMs, 0)} (${x.tfjsAll.map((v) => fmt(v, 0)).join(', ')})`, `${fmt(x.oursMs, 0)} (${x.oursAll.map((v) => fmt(v, 0)).join(', ')})`, `${fmt(x.tfjsMs / x.oursMs, 1)}×`]),
    },
    data: { adapter: r.gpu.adapterName, tfjs: '4.22.0', rows },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
