// `comi demo` (npm run demo): the whole job on a built-in default with no download — synthesize a small paired
// fluorescence set, train a small corrector, compare it with Richardson–Lucy and the input on held-out fields, and
// write the QC report — sized to finish in minutes on a 2-core machine without a GPU.
import { existsSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { num, parseFlags, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { synthCommand } from './synth.js';
import { compareCommand } from './compare.js';
import { evaluateCommand } from './evaluate.js';
import { formatDuration } from './progress.js';
import { SCORE_KEYS } from '../eval/compare_stats.js';
import { normalizedConventionNote } from '../eval/convention.js';
import { readRunConfig } from '../train/run_folder.js';

const FLAGS: FlagSpec = {
  out: { type: 'string' },
  iters: { type: 'string' },
  'time-limit': { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

// Chosen so that on lavapipe (2 cores) the whole demo stays under 10 minutes: lavapipe's speed differs 3× between
// 2-core machines (with and without AVX2), so training is also capped in time (train --time-limit). The recipe is
// the recommended one without VGG19 weights (docs/results.md): G_s alone, trained on L1 + SSIM (no download, no discriminators), on
// inputs first deconvolved by Richardson–Lucy with a Gaussian PSF fitted on the training pairs (--rl-input fit),
// each image mapped by its percentiles (the synthetic 8-bit fields fill about half the 8-bit range), starting from
// the shipped fluorescence corrector with its last convolution zeroed (--start-at-input: the corrector starts as the
// RL stage), kept at the check that scores best on held-out training pairs (--keep best, the default; a network
// that never beats the stage is not kept); corrections average 8 mirrored / turned copies (test-time augmentation).
// Held-out fields are a separate synthetic set; Richardson–Lucy gets each field's own (matched) defocus PSF.
const DEMO = {
  count: 40, testCount: 12, fieldSize: 128, defocus: '0.5:1.5', crop: 64, ngf: 16, blocks: 6, iters: 1600, trainMinutes: 5.5, batch: 2, content: 'l1+ssim', lr: '5e-4',
  init: 'pretrained:fluorescence', tta: 8,
};
const RECIPE = `${DEMO.crop}² crops, batch ${DEMO.batch}, ngf ${DEMO.ngf}, ${DEMO.blocks} residual blocks, resize-conv upsampling, global residual, ` +
  `content ${DEMO.content}, no GAN terms, Richardson–Lucy input stage fitted on the training pairs, percentile normalisation, ` +
  `${DEMO.iters} iterations (fewer where ${DEMO.trainMinutes} min of training cannot hold them) from ${DEMO.init} started as the RL stage, corrections averaged over ${DEMO.tta} mirrored / turned copies`;

const HELP = `usage: comi demo [--out DIR] [--iters N] [--time-limit MIN] [--seed N]

Synthesizes ${DEMO.count} paired fluorescence fields for training and ${DEMO.testCount} held-out ones (${DEMO.fieldSize}², physically
based defocus of ${DEMO.defocus} µm), trains a small corrector (${RECIPE}), then compares it with Richardson–Lucy
(matched PSF) and the uncorrected input on the held-out fields (comi compare), and writes the QC report of the
run's own held-out split (comi evaluate): tables in DIR/compare and DIR/evaluation, report.html.

  --out DIR    demo folder (default ./comi-demo; a previous demo there is replaced, any other folder is refused)
  --iters N    training iterations (default ${DEMO.iters})
  --time-limit MIN   minutes the training may take, loading included (default ${DEMO.trainMinutes}); on a slower
               machine the run is shortened to what fits (train --time-limit)
  --seed N     data, weights and crops (default 0)
`;

const MARKER = '.comi-demo';

/** Only a folder that an earlier demo made is ever deleted. */
function prepareOut(dir: string): void {
  if (existsSync(dir)) {
    if (existsSync(join(dir, MARKER))) rmSync(dir, { recursive: true, force: true });
    else if (readdirSync(dir).length > 0) throw new UsageError(`${dir} exists and is not an earlier demo folder; choose another with --out`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), 'made by comi demo; the next demo run replaces this folder\n');
}

function step(n: number, what: string): void {
  process.stdout.write(`\n== ${n}/3 ${what}\n`);
}

export async function demoCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const out = resolve(str(values, 'out', 'comi-demo')!);
  const iters = num(values, 'iters', DEMO.iters, { int: true, min: 1 });
  const trainMinutes = num(values, 'time-limit', DEMO.trainMinutes, { min: 0.1 });
  const seed = String(num(values, 'seed', 0, { int: true, min: 0 }));
  prepareOut(out);
  const started = performance.now();
  const train = join(out, 'data', 'train');
  const test = join(out, 'data', 'test');
  const compared = join(out, 'compare');
  const evaluation = join(out, 'evaluation');

  step(1, `synthesizing ${DEMO.count} training and ${DEMO.testCount} held-out paired fluorescence fields`);
  await synthCommand(['--out', train, '--count', String(DEMO.count), '--size', String(DEMO.fieldSize), '--defocus', DEMO.defocus, '--seed', seed]);
  await synthCommand(['--out', test, '--count', String(DEMO.testCount), '--size', String(DEMO.fieldSize), '--defocus', DEMO.defocus, '--seed', String(Number(seed) + 1000)]);

  step(2, `training a small corrector (${RECIPE}) and comparing it with Richardson–Lucy and the input`);
  const result = await compareCommand([
    '--train', train, '--test', test, '--out', compared, '--repeats', '1', '--methods', 'comi,rl,input', '--rl-psf', 'matched',
    '--tta', String(DEMO.tta), '--',
    '--size', String(DEMO.crop), '--batch', String(DEMO.batch), '--ngf', String(DEMO.ngf), '--blocks', String(DEMO.blocks),
    '--upsampling', 'resize', '--global-residual', '--content', DEMO.content, '--adversarial-weight', '0', '--cycle-weight', '0',
    '--lr', DEMO.lr, '--iters', String(iters), '--checkpoint-every', String(Math.ceil(iters / 4)), '--time-limit', String(trainMinutes), '--rl-input', 'fit',
    '--normalization', 'percentile', '--init', DEMO.init, '--start-at-input',
  ]);

  step(3, 'QC report of the run\'s own held-out split');
  await evaluateCommand(['--model', join(compared, 'runs', 'comi-0'), '--tta', String(DEMO.tta), '--out', evaluation]);
  const all = result!.summary.filter((s) => s.bin === 'all');
  const row = (m: string) => all.find((s) => s.method === m)!;
  // The demo's answer is the augmented correction; the single pass is shown beside it.
  const augmented = `comi+tta${DEMO.tta}`;
  const [input, rl, single, comi] = [row('input'), row('rl'), row('comi'), row(augmented)];
  const lines = ['', `demo summary (${comi.images} held-out synthetic fields; ${normalizedConventionNote()}):`];
  lines.push(`  ${'metric'.padEnd(8)} ${'input'.padStart(8)} ${'RL'.padStart(8)} ${'comi'.padStart(8)} ${augmented.padStart(10)}`);
  let beats = 0;
  for (const k of SCORE_KEYS) {
    const digits = k === 'psnr' ? 2 : 4;
    const wins = comi.mean[k] > input.mean[k] && comi.mean[k] > rl.mean[k];
    beats += wins ? 1 : 0;
    const cells = [input, rl, single].map((r) => r.mean[k].toFixed(digits).padStart(8)).join(' ');
    lines.push(`  ${k.toUpperCase().padEnd(8)} ${cells} ${comi.mean[k].toFixed(digits).padStart(10)}${wins ? '  better than both' : '  NOT better than both'}`);
  }
  const trained = readRunConfig(join(compared, 'runs', 'comi-0')).optim.iterations;
  lines.push(
    `trained ${trained} iterations${trained < iters ? ` of ${iters} (what ${trainMinutes} min of training held on this machine)` : ''}`,
    beats === SCORE_KEYS.length
      ? 'the corrected images beat the uncorrected inputs and Richardson–Lucy on every metric'
      : `the corrected images beat both on ${beats} of ${SCORE_KEYS.length} metrics only — train longer (--iters, --time-limit)`,
    `tables: ${join(compared, 'compare.md')}`,
    `report: ${join(evaluation, 'report.html')}`,
    `total time: ${formatDuration((performance.now() - started) / 1000)}`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}
