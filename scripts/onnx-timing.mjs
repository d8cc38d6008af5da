// Times onnxruntime (CPU) on the exported paper generator (ngf 64, 9 blocks, transpose upsampling, random weights:
// time does not depend on them) for the 2304×1728 Leishmania image, and prints max |ONNX − engine| per variant for a
// tiny generator on the same image. Usage: node scripts/onnx-timing.mjs [IMAGE] (after npm run build).
import * as ort from 'onnxruntime-node';
import '../dist/src/platform/node.js';
import { initGpu } from '../dist/src/graph/runtime.js';
import { ResnetGenerator } from '../dist/src/model/generator.js';
import { Tensor } from '../dist/src/graph/tensor.js';
import { noGrad } from '../dist/src/autograd/tape.js';
import { generatorToOnnx } from '../dist/src/export/onnx.js';
import { readImage } from '../dist/src/data/image.js';
import { fitNormalization, normalize } from '../dist/src/data/normalize.js';

const file = process.argv[2] ?? '../shared/data/leishmania-defocused/Out-of-focus_image.jpg';
const img = await readImage(file);
const x = normalize(img, fitNormalization(img, '8bit'));
const shape = [1, img.channels, img.height, img.width];
await initGpu();
const run = async (g) => (await ort.InferenceSession.create(generatorToOnnx(await g.stateDict(), g.opts, { name: 't', producerVersion: '0' })))
  .run({ input: new ort.Tensor('float32', x, shape) });

for (const [label, v] of [['transpose', {}], ['resize', { upsampling: 'resize' }], ['resize+residual', { upsampling: 'resize', globalResidual: true }]]) {
  const g = new ResnetGenerator({ inChannels: 3, outChannels: 3, ngf: 4, blocks: 2, seed: 5, ...v });
  const ours = await noGrad(() => g.forward(Tensor.fromArray(x, shape))).data();
  const theirs = (await run(g)).output.data;
  let m = 0;
  for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i] - theirs[i]));
  console.log(`${label} (ngf 4, 2 blocks) on ${img.width}×${img.height}: max |Δ| = ${m.toExponential(2)}`);
  g.dispose();
}
const paper = new ResnetGenerator({ inChannels: 3, outChannels: 3 });
const session = await ort.InferenceSession.create(generatorToOnnx(await paper.stateDict(), paper.opts, { name: 't', producerVersion: '0' }));
for (let k = 0; k < 2; k++) {
  const t0 = performance.now();
  await session.run({ input: new ort.Tensor('float32', x, shape) });
  console.log(`onnxruntime CPU, paper generator (ngf 64, 9 blocks), ${img.width}×${img.height}×3: ${((performance.now() - t0) / 1000).toFixed(1)} s (run ${k + 1})`);
}
process.exit(0);
