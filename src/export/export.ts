// `comi export` as a library: a run's generator as a plain ONNX file or as a bioimage.io model package.
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { packageRoot } from '../io/package_root.js';
import { loadGenerator, type RunConfig } from '../train/run_folder.js';
import type { ResnetGenerator } from '../model/generator.js';
import type { StateDict } from '../model/module.js';
import { generatorToOnnx, ONNX_OPSET } from './onnx.js';
import { encodeTorchStateDict } from '../weights/torch_save.js';
import { buildPackage, packagePath, processingSteps, testCrop, zipPackage } from './bioimageio.js';
import { readImage, type Image } from '../data/image.js';
import { fitNormalization, normalize, DEFAULT_PERCENTILES } from '../data/normalize.js';
import { expandInputs } from '../correct/files.js';
import { Tensor } from '../graph/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { deconvolveNormalized } from '../model/richardson_lucy.js';
import { binnedSize, binPlanes, unbinPlanes } from '../data/bin.js';

export const EXPORT_FORMATS = ['onnx', 'bioimageio'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  model: string;
  out: string;
  format: ExportFormat;
  /** bioimageio: the image the test tensors are cropped from; default: the first image of the run's input data. */
  sample?: string;
}

export interface ExportResult {
  /** Files written, the main one first. */
  files: string[];
  config: RunConfig;
}

/** This program's version (package.json), recorded as the ONNX producer. */
function programVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
  return String(pkg.version);
}

/** The ONNX bytes of a loaded generator, with the run's intensity mapping in the metadata. */
function runToOnnx(name: string, state: StateDict, generator: ResnetGenerator, config: RunConfig): Uint8Array {
  const d = config.data;
  return generatorToOnnx(state, generator.opts, {
    name,
    producerVersion: programVersion(),
    ...(config.model.rlInput ? { rlInput: config.model.rlInput } : {}),
    ...(config.data.bin ? { bin: config.data.bin } : {}),
    metadata: {
      'comi.normalization': d.normalization,
      ...(d.percentiles ? { 'comi.percentiles': `${d.percentiles.pLow},${d.percentiles.pHigh}` } : {}),
      'comi.config': JSON.stringify(config),
    },
  });
}

/** The first input image of the run's training data (the out-of-focus side), when it is still there. */
function defaultSample(config: RunConfig): string {
  const folder = config.data.source ?? config.data.planes?.[0];
  const files = folder ? expandInputs([join(config.data.root, folder)]).files : [];
  if (!files.length) throw new Error(`give --sample IMAGE for the test tensors: the run's training images (${folder ? join(config.data.root, folder) : config.data.root}) are not available`);
  return files[0];
}

/** The network's output for a test crop, computed whole (planar, [−1, 1]), binned and upsampled back as the run is. */
async function runOnSample(generator: ResnetGenerator, config: RunConfig, path: string): Promise<{ crop: Image; output: Float32Array }> {
  const n = config.data.bin ?? 1;
  const crop = testCrop(await readImage(path), n);
  const c = generator.opts.inChannels;
  if (crop.channels !== c) throw new Error(`the sample ${path} has ${crop.channels} channel(s); the model takes ${c}`);
  const steps = processingSteps(config, crop.bitDepth);
  const normalized = normalize(crop, fitNormalization(crop, steps.mode, config.data.percentiles ?? DEFAULT_PERCENTILES));
  const { width, height } = binnedSize(crop.width, crop.height, n);
  const binned = binPlanes(normalized, c, crop.width, crop.height, n);
  const rl = config.model.rlInput;
  const x = rl ? await deconvolveNormalized(binned, c, width, height, rl) : binned;
  const y = noGrad(() => generator.forward(Tensor.fromArray(x, [1, c, height, width])));
  const output = unbinPlanes(await y.data(), c, crop.width, crop.height, n);
  y.dispose();
  return { crop, output };
}

export async function exportRun(opts: ExportOptions): Promise<ExportResult> {
  const { generator, config } = await loadGenerator(opts.model);
  try {
    const name = basename(resolve(opts.model));
    const state = await generator.stateDict();
    const onnxBytes = runToOnnx(name, state, generator, config);
    if (opts.format === 'onnx') {
      mkdirSync(opts.out, { recursive: true });
      const path = join(opts.out, `${name}.onnx`);
      writeFileAtomic(path, onnxBytes);
      return { files: [path], config };
    }
    const sample = opts.sample ?? defaultSample(config);
    const { crop, output } = await runOnSample(generator, config, sample);
    const { files } = buildPackage({
      name, config, onnx: onnxBytes, onnxOpset: ONNX_OPSET, testInput: crop, networkOutput: output, sampleName: basename(sample),
      torchWeights: encodeTorchStateDict(state), architecture: readFileSync(join(packageRoot(), 'python', 'comi_generator.py')),
    });
    mkdirSync(opts.out, { recursive: true });
    const path = packagePath(opts.out, name);
    writeFileAtomic(path, zipPackage(files));
    return { files: [path], config };
  } finally {
    generator.dispose();
  }
}
