// `comi demo` (npm run demo): the whole job on a built-in default with no download — synthesize a small paired
// fluorescence set, train a small COMI model, correct the held-out images, evaluate them against their in-focus
// truth and write the QC report — sized to finish in minutes on a 2-core machine without a GPU.
import { existsSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { num, parseFlags, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { synthCommand } from './synth.js';
import { trainCommand } from './train.js';
import { evaluateCommand } from './evaluate.js';
import { formatDuration } from './progress.js';
import { METRICS, METRIC_LABELS, type SummaryRow } from '../eval/evaluate.js';

const FLAGS: FlagSpec = {
  out: { type: 'string' },
  iters: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

// Chosen so that on lavapipe (2 cores) the whole demo stays under 10 minutes and the corrected images beat the
// inputs on every metric (see README). Crops are small; correction runs on the full 128² held-out fields.
// The content loss uses seeded random VGG19 weights on every machine, so the demo's numbers do not depend on what is
// cached. Their relu1_2 features are small (inputs in [0, 1], unlike Keras' 0–255), hence a content weight of 500
// where the paper's 1 assumes ImageNet Keras features; with the paper's weight the adversarial term dominates.
const DEMO = {
  count: 40, fieldSize: 128, defocus: '0.5:1.5', crop: 64, ngf: 8, ndf: 16, blocks: 3, iters: 800,
  vggLayers: 'relu1_2', contentWeight: 500,
};
const VGG_NOTE = `content loss: seeded RANDOM VGG19 weights (${DEMO.vggLayers}, weight ${DEMO.contentWeight}) — no download; ` +
  'real training uses the ImageNet weights (`comi weights fetch vgg19`)';

const HELP = `usage: comi demo [--out DIR] [--iters N] [--seed N]

Synthesizes ${DEMO.count} paired fluorescence fields (${DEMO.fieldSize}², physically based defocus of ${DEMO.defocus} µm), trains a
small COMI model (${DEMO.crop}² crops, ngf ${DEMO.ngf}, ${DEMO.blocks} residual blocks, resize-conv upsampling, global residual,
${DEMO.iters} iterations; ${VGG_NOTE}), corrects the held-out 20 % and evaluates them against their in-focus truth:
metrics tables and report.html in DIR/evaluation.

  --out DIR    demo folder (default ./comi-demo; a previous demo there is replaced, any other folder is refused)
  --iters N    training iterations (default ${DEMO.iters})
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
  const seed = String(num(values, 'seed', 0, { int: true, min: 0 }));
  prepareOut(out);
  const started = performance.now();
  const data = join(out, 'data');
  const run = join(out, 'run');
  const evaluation = join(out, 'evaluation');

  step(1, `synthesizing ${DEMO.count} paired fluorescence fields`);
  await synthCommand(['--out', data, '--count', String(DEMO.count), '--size', String(DEMO.fieldSize), '--defocus', DEMO.defocus, '--seed', seed]);

  step(2, `training a small COMI model (${VGG_NOTE})`);
  await trainCommand([
    '--data', data, '--layout', 'paired', '--source', 'blurred', '--target', 'clear', '--out', run,
    '--size', String(DEMO.crop), '--ngf', String(DEMO.ngf), '--ndf', String(DEMO.ndf), '--blocks', String(DEMO.blocks),
    '--upsampling', 'resize', '--global-residual', '--iters', String(iters), '--seed', seed,
    '--vgg', 'random', '--vgg-layers', DEMO.vggLayers, '--content-weight', String(DEMO.contentWeight),
    '--checkpoint-every', String(iters), '--sample-every', String(Math.max(1, Math.floor(iters / 4))),
  ]);

  step(3, 'correcting the held-out fields and evaluating them against their in-focus truth');
  const result = await evaluateCommand(['--model', run, '--out', evaluation]);
  const summary = result!.summary;
  const row = (kind: SummaryRow['kind']) => summary.find((s) => s.group === 'all' && s.kind === kind) ?? summary.find((s) => s.kind === kind);
  const input = row('input');
  const corrected = row('corrected');
  if (!input || !corrected) throw new Error('the evaluation has no input/corrected summary');
  const lines = ['', `demo summary (held-out synthetic fields, mean over ${corrected.n} images):`];
  lines.push(`  ${'metric'.padEnd(16)} ${'input'.padStart(8)} ${'corrected'.padStart(10)}`);
  const better = METRICS.filter((k) => corrected.mean[k] > input.mean[k]);
  for (const k of METRICS) {
    const digits = k === 'psnr' ? 2 : 4;
    lines.push(`  ${METRIC_LABELS[k].padEnd(16)} ${input.mean[k].toFixed(digits).padStart(8)} ${corrected.mean[k].toFixed(digits).padStart(10)}${corrected.mean[k] > input.mean[k] ? '  better' : '  NOT better'}`);
  }
  lines.push(
    better.length === METRICS.length
      ? 'the corrected images beat the uncorrected inputs on every metric'
      : `the corrected images beat the inputs on ${better.length} of ${METRICS.length} metrics only — train longer (--iters)`,
    `report: ${join(evaluation, 'report.html')}`,
    `total time: ${formatDuration((performance.now() - started) / 1000)}`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}
