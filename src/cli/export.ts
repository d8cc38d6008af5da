// `comi export`: a run's generator for other programs — ONNX (onnxruntime, OpenCV, Netron) or a bioimage.io model
// package (deepImageJ, ilastik, napari/bioimageio.core).
import { choice, parseFlags, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { exportRun, EXPORT_FORMATS, type ExportFormat, type ExportOptions } from '../export/export.js';

const FLAGS: FlagSpec = {
  model: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  sample: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const HELP = `usage: comi export --model RUN --out DIR [--format onnx|bioimageio] [--sample IMAGE]

Exports the correcting generator of a training run.

  --model RUN        run folder written by train.js (generator.safetensors, config.json)
  --out DIR          output folder (created if missing)
  --format F         onnx (default): DIR/RUN.onnx, opset 17, input 'input' [batch, C, height, width] in [-1, 1]
                     with height and width multiples of 4, output 'output' the same;
                     bioimageio: DIR/RUN.bioimageio.zip, a bioimage.io model package (spec 0.5) with the ONNX
                     weights, the run's normalisation as pre/postprocessing, test tensors and a cover image
  --sample IMAGE     bioimageio: image whose centred crop (≤ 256 px) becomes the test tensors and the cover
                     (default: the first image of the run's out-of-focus training data)
`;

export function parseExportFlags(argv: string[]): ExportOptions | null {
  const { values, positionals } = parseFlags(argv, FLAGS, true);
  if (values.help) return null;
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const model = str(values, 'model');
  const out = str(values, 'out');
  if (!model) throw new UsageError('--model RUN is required (the training run folder)');
  if (!out) throw new UsageError('--out DIR is required (the folder to write to)');
  const format = choice<ExportFormat>(values, 'format', EXPORT_FORMATS, 'onnx');
  const sample = str(values, 'sample');
  if (sample !== undefined && format !== 'bioimageio') throw new UsageError('--sample is for --format bioimageio');
  return { model, out, format, sample };
}

export async function exportCommand(argv: string[]): Promise<void> {
  const opts = parseExportFlags(argv);
  if (!opts) {
    process.stdout.write(HELP);
    return;
  }
  const r = await exportRun(opts);
  for (const f of r.files) process.stdout.write(`wrote ${f}\n`);
}
