// Speed of the CPU metrics on a full-size RGB frame (2304×1728, the size of the paper's camera images).
//   npx tsc -p tsconfig.json && node dist/bench/metrics.js
import { psnr, ssim, pcc, type MetricImage } from '../src/eval/metrics.js';
import { hash32 } from '../src/graph/random.js';

const width = 2304;
const height = 1728;
const channels = 3;
const n = width * height * channels;
const truth: MetricImage = { width, height, channels, data: Uint8Array.from({ length: n }, (_, i) => hash32(i, 1) & 0xff) };
const pred: MetricImage = { width, height, channels, data: Uint8Array.from({ length: n }, (_, i) => (truth.data[i] + (hash32(i, 2) & 0x1f)) & 0xff) };

function time(label: string, f: () => number): void {
  f(); // warm-up (JIT)
  const runs = 3;
  const t0 = performance.now();
  let v = 0;
  for (let r = 0; r < runs; r++) v = f();
  console.log(`${label}: ${((performance.now() - t0) / runs).toFixed(0)} ms (value ${v.toFixed(6)})`);
}

console.log(`metrics on ${width}×${height}×${channels} uint8, dataRange 255`);
time('psnr', () => psnr(pred, truth, { dataRange: 255 }));
time('pcc', () => pcc(pred, truth));
time('ssim skimage (7×7 uniform)', () => ssim(pred, truth, { dataRange: 255, convention: 'skimage' }));
time('ssim wang (11×11 gaussian)', () => ssim(pred, truth, { dataRange: 255, convention: 'wang' }));
