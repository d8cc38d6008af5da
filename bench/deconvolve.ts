// Richardson–Lucy with a Gaussian PSF: one K×K convolution per blur (any PSF) against two 1-D passes of K taps
// (separable PSFs, shaders/correlate1d.wgsl), alternated in one process, on BBBC006's right half mirror-padded by
// the PSF (as richardsonLucyPadded runs it). Medians of wall time; GFLOP/s count the blur's multiply-adds only.
//   node dist/bench/deconvolve.js [--sigmas 2,8,19.3] [--iterations 5] [--reps 3] [--width 348] [--height 520]
import { benchGpu, timeWall, saveSection, gflops, fmt, flag, median } from './harness.js';
import { hashUniform } from '../src/graph/random.js';
import { richardsonLucyAt, gaussianPsf, type Psf } from '../src/model/richardson_lucy.js';

await benchGpu();
const sigmas = flag('sigmas', '2,8,19.3').split(',').map(Number);
const iterations = Number(flag('iterations', '5'));
const reps = Number(flag('reps', '3'));
const width = Number(flag('width', '348'));
const height = Number(flag('height', '520'));

const head = ['σ (px)', 'taps', 'image', 'K×K ms/it', 'K×K GFLOP/s', '2 × 1-D ms/it', '2 × 1-D GFLOP/s', 'speed-up', 'max |Δ|'];
const rows: (string | number)[][] = [];
for (const sigma of sigmas) {
  const separable = gaussianPsf(sigma);
  const dense: Psf = { width: separable.width, height: separable.height, data: separable.data };
  const K = separable.width;
  const W = width + 2 * K;
  const H = height + 2 * K;
  const image = { width: W, height: H, planes: 1, data: hashUniform(W * H, 7, 0.5).map((v) => v + 0.5) };
  const run = (psf: Psf) => richardsonLucyAt(image, psf, [iterations], { clip: false });
  const [a] = await run(dense);
  const [b] = await run(separable);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  const times = { dense: [] as number[], separable: [] as number[] };
  for (let r = 0; r < reps; r++) {
    times.dense.push((await timeWall(() => run(dense), 0, 1)).ms);
    times.separable.push((await timeWall(() => run(separable), 0, 1)).ms);
  }
  const [msDense, msSep] = [median(times.dense) / iterations, median(times.separable) / iterations];
  const px = W * H;
  const row = [sigma, K, `${W}×${H}`, fmt(msDense, 0), fmt(gflops(2 * 2 * K * K * px, msDense)), fmt(msSep, 1), fmt(gflops(2 * 2 * 2 * K * px, msSep)), `${fmt(msDense / msSep)}×`, worst.toExponential(1)];
  console.log(head.map((h, i) => `${h} ${row[i]}`).join(' · '));
  rows.push(row);
}
saveSection('deconvolve', {
  title: 'Richardson–Lucy: K×K convolution against two 1-D passes (Gaussian PSF)',
  notes: [
    `node dist/bench/deconvolve.js --sigmas ${sigmas.join(',')} --iterations ${iterations} --reps ${reps}: a ${width}×${height} field mirror-padded by the PSF's size, ${iterations} iterations per run, medians of ${reps} runs of each, alternated. GFLOP/s count the two blurs per iteration (2·K² or 2·2K multiply-adds per pixel each); max |Δ| compares the two results.`,
  ],
  table: { head, rows },
  data: { sigmas, iterations, reps, width, height },
});
