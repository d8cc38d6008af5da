// `comi <command>`: one entry for every user-facing job.
import '../platform/node.js';
import { runMain, UsageError } from './errors.js';
import { followLauncher } from './launch.js';
import { infoCommand } from './info.js';
import { synthCommand } from './synth.js';
import { trainCommand } from './train.js';
import { weightsCommand } from './weights.js';
import { correctCommand } from './correct.js';
import { evaluateCommand } from './evaluate.js';
import { deconvolveCommand } from './deconvolve.js';
import { compareCommand } from './compare.js';
import { demoCommand } from './demo.js';
import { exportCommand } from './export.js';
import { focusCommand } from './focus.js';
import { manifestCommand } from './manifest.js';

type Command = { run: (argv: string[]) => Promise<unknown>; help: string };

const COMMANDS: Record<string, Command> = {
  info: { run: infoCommand, help: 'show the WebGPU adapter and its limits' },
  synth: { run: synthCommand, help: 'write a synthetic defocus training set (paired or z-stack)' },
  train: { run: trainCommand, help: 'train the COMI CycleGAN into a run folder (same as node train.js)' },
  weights: { run: weightsCommand, help: 'fetch or import the VGG19 weights of the content loss (then training works offline)' },
  focus: { run: focusCommand, help: 'focus score per image and tile, and which images need correction' },
  correct: { run: correctCommand, help: 'correct out-of-focus images of any size with a trained run' },
  manifest: { run: manifestCommand, help: 'check that the manifests of a sharded correct batch cover every input exactly once' },
  evaluate: { run: evaluateCommand, help: 'PSNR, SSIM and PCC against ground truth, tables and an HTML QC report' },
  deconvolve: { run: deconvolveCommand, help: 'Richardson–Lucy deconvolution with a Gaussian, optics, file or fitted PSF (baseline)' },
  compare: { run: compareCommand, help: 'compare comi, Richardson–Lucy and the input on held-out pairs: repeats, CIs, |z| bins' },
  export: { run: exportCommand, help: 'export a run\'s generator as ONNX or a bioimage.io model package' },
  demo: { run: demoCommand, help: 'synthesize data, train a small model, correct, evaluate and report (no download)' },
};

const usage = () =>
  'usage: comi <command> [options]\n\ncommands:\n' +
  Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`)
    .join('\n') +
  '\n';

followLauncher();
const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
} else {
  await runMain(`comi ${name}`, async () => {
    const cmd = COMMANDS[name];
    if (!cmd) throw new UsageError(`unknown command '${name}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
    await cmd.run(rest);
  });
}
// Dawn keeps the process alive while its instance exists; exit explicitly once the command is done.
process.exit(process.exitCode ?? 0);
