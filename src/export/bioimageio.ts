// A bioimage.io model package (model description format 0.5): rdf.yaml, ONNX weights, test tensors (.npy) that
// reproduce through any runner, a cover image, README, and the run's training details. The run's intensity mapping
// becomes the package's pre- and postprocessing, so deepImageJ / bioimageio.core feed the network what it saw in
// training.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { stringify } from 'yaml';
import { centreCrop, type Image } from '../data/image.js';
import { encodePng } from '../data/png.js';
import { DEFAULT_PERCENTILES, fitNormalization, normalize, type NormalizationMode } from '../data/normalize.js';
import type { RunConfig } from '../train/run_folder.js';
import { encodeNpy } from './npy.js';

export const BIOIMAGEIO_FORMAT_VERSION = '0.5.7';
/** Test tensors are a centred crop at most this wide (the network takes any multiple of 4 ≥ 8). */
const TEST_EDGE = 256;

export const COMI_CITATION = {
  text: 'Zhang C, Jiang H, Liu W, Li J, Tang S, Juhas M, Zhang Y. Correction of out-of-focus microscopic images by deep learning. Computational and Structural Biotechnology Journal 20 (2022) 1957–1966.',
  doi: '10.1016/j.csbj.2022.04.003',
};

type Step = { id: string; kwargs?: Record<string, unknown> };

/** The run's mapping into [−1, 1] as bioimage.io steps, and its inverse as far as the spec can express it. */
export function processingSteps(config: RunConfig, inputBitDepth: 8 | 16 | 32): { mode: NormalizationMode; pre: Step[]; post: Step[]; outputMeaning: string } {
  const choice = config.data.normalization;
  const mode: NormalizationMode = choice !== 'auto' ? choice : inputBitDepth === 8 ? '8bit' : 'percentile';
  const toFloat: Step = { id: 'ensure_dtype', kwargs: { dtype: 'float32' } };
  if (mode === 'percentile') {
    const p = config.data.percentiles ?? DEFAULT_PERCENTILES;
    return {
      mode,
      // Percentiles per image over all channels and pixels (src/data/normalize.ts), then [0, 1] → [−1, 1].
      pre: [toFloat, { id: 'scale_range', kwargs: { axes: ['channel', 'y', 'x'], min_percentile: p.pLow, max_percentile: p.pHigh } }, { id: 'scale_linear', kwargs: { gain: 2, offset: -1 } }],
      post: [{ id: 'scale_linear', kwargs: { gain: 0.5, offset: 0.5 } }],
      outputMeaning: `intensity as a fraction of the input's ${p.pLow}–${p.pHigh} percentile range (0 and 1 at those percentiles)`,
    };
  }
  const max = mode === '8bit' ? 255 : 65535;
  return {
    mode,
    pre: [toFloat, { id: 'scale_linear', kwargs: { gain: 2 / max, offset: -1 } }],
    post: [{ id: 'scale_linear', kwargs: { gain: max / 2, offset: max / 2 } }],
    outputMeaning: `intensity in the input's units (0…${max})`,
  };
}

/** A centred crop, square where the image allows, with sides multiples of 4·bin (the network's stride, binned). */
export function testCrop(img: Image, bin = 1): Image {
  const step = 4 * bin;
  const edge = TEST_EDGE - (TEST_EDGE % step);
  const w = Math.min(edge, img.width - (img.width % step));
  const h = Math.min(edge, img.height - (img.height % step));
  if (w < 2 * step || h < 2 * step) throw new Error(`the sample image is ${img.width}×${img.height}; the test tensor needs at least ${2 * step}×${2 * step} pixels`);
  return centreCrop(img, w, h);
}

/** Interleaved H×W×C → planar C×H×W (the tensor layout of the package). */
function planar(img: Image): Image['data'] {
  const { width, height, channels: c, data } = img;
  const out = new (data.constructor as new (n: number) => Image['data'])(data.length);
  const plane = width * height;
  for (let i = 0; i < plane; i++) for (let k = 0; k < c; k++) out[k * plane + i] = data[i * c + k];
  return out;
}

/** Input | output side by side, each stretched to 0…255 by its own 0.1–99.9 percentiles: 2:1 for a square crop. */
function cover(input: Image, outputPlanar: Float32Array): Uint8Array {
  const { width: w, height: h, channels: c } = input;
  const inPlanar = Float32Array.from(planar(input));
  const stretch = (p: Float32Array) => {
    const img: Image = { width: w, height: h * c, channels: 1, bitDepth: 32, data: p };
    const n = fitNormalization(img, 'percentile');
    return normalize(img, n); // [−1, 1] between the percentiles
  };
  const a = stretch(inPlanar);
  const b = stretch(outputPlanar);
  const data = new Uint8Array(2 * w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const src = k * w * h + y * w + x;
        const to8 = (v: number) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
        data[(y * 2 * w + x) * c + k] = to8(a[src]);
        data[(y * 2 * w + w + x) * c + k] = to8(b[src]);
      }
    }
  }
  return encodePng({ width: 2 * w, height: h, channels: c, bitDepth: 8, data });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const NPY_DTYPE = { 8: 'uint8', 16: 'uint16', 32: 'float32' } as const;

export interface PackageParts {
  /** Run folder name: the model's name. */
  name: string;
  config: RunConfig;
  onnx: Uint8Array;
  onnxOpset: number;
  /** torch.save'd state dict and the PyTorch architecture it loads into (python/comi_generator.py). */
  torchWeights: Uint8Array;
  architecture: Uint8Array;
  /** The test input: a crop of a sample image (testCrop), and the network's output for it, planar in [−1, 1]. */
  testInput: Image;
  networkOutput: Float32Array;
  /** Where the sample came from, for the README. */
  sampleName: string;
}

/** The model description (rdf.yaml content) and the files it names. */
export function buildPackage(p: PackageParts): { rdf: Record<string, unknown>; files: Record<string, Uint8Array> } {
  const { config, testInput: img } = p;
  const m = config.model;
  const steps = processingSteps(config, img.bitDepth);
  const { width: w, height: h, channels: c } = img;
  const shape = [1, c, h, w];
  const post = Float32Array.from(p.networkOutput, (v) => {
    const s = steps.post[0].kwargs as { gain: number; offset: number };
    return v * s.gain + s.offset;
  });
  const files: Record<string, Uint8Array> = {
    'weights.onnx': p.onnx,
    'weights.pt': p.torchWeights,
    'comi_generator.py': p.architecture,
    'test_input.npy': encodeNpy(planar(img), NPY_DTYPE[img.bitDepth], shape),
    'test_output.npy': encodeNpy(post, 'float32', shape),
    'cover.png': cover(img, p.networkOutput),
  };
  const channelNames = c === 1 ? ['intensity'] : ['red', 'green', 'blue'];
  const rl = config.model.rlInput;
  const variant = `${m.upsampling === 'transpose' ? 'transposed-convolution upsampling (paper)' : 'nearest ×2 + convolution upsampling (COMI code)'}${m.globalResidual ? ', global residual' : ''}` +
    `${rl ? `, Richardson–Lucy input stage (Gaussian σ ${rl.sigma} px, ${rl.iterations} iterations)` : ''}`;
  const bin = config.data.bin ?? 1;
  // The stage's reflect padding by the PSF's size (2·⌈3σ⌉ + 1) needs an image larger than it (in binned pixels).
  const minSide = bin * (rl ? Math.max(8, 4 * Math.ceil((2 * Math.ceil(3 * rl.sigma) + 2) / 4)) : 8);
  const readme = [
    `# ${p.name}: COMI out-of-focus correction`,
    '',
    `CycleGAN ResNet generator (ngf ${m.ngf}, ${m.blocks} residual blocks, ${variant}) trained with comi-webgpu to turn`,
    'out-of-focus microscopy images into in-focus ones (Zhang et al. 2022).',
    '',
    `- Input: ${c === 1 ? 'one gray channel' : 'RGB'}, any height and width that are multiples of ${4 * bin} (at least ${minSide}).`,
    `- Preprocessing (as in training, normalisation '${steps.mode}'): ${steps.pre.map((s) => s.id).join(' → ')}, to [-1, 1].`,
    `- Output: same size and channels; ${steps.outputMeaning}.`,
    ...(bin > 1 ? [`- The network works on its input binned ${bin}×${bin} (the mean of each block) and upsamples its output back bilinearly (in the ONNX graph and in comi_generator.py), as in training.`] : []),
    ...(rl ? [`- The network first deconvolves its ${bin > 1 ? 'binned ' : ''}input by Richardson–Lucy (in the ONNX graph and in comi_generator.py), as in training.`] : []),
    `- Instance normalisation uses the statistics of the whole input: correct whole images rather than tiles.`,
    `- Test tensors: a ${w}×${h} crop of ${p.sampleName}; cover: that crop | its correction.`,
    '',
    `Trained on ${config.data.layout} data (${config.data.size}-pixel crops, ${config.optim.iterations} iterations); the full run configuration is under config.comi in rdf.yaml.`,
    '',
    `Cite: ${COMI_CITATION.text} doi:${COMI_CITATION.doi}`,
    '',
  ].join('\n');
  files['README.md'] = new TextEncoder().encode(readme);

  const space = (id: 'y' | 'x') => ({ type: 'space', id, size: { min: minSide, step: 4 * bin } });
  const same = (id: 'y' | 'x') => ({ type: 'space', id, size: { tensor_id: 'input', axis_id: id } });
  const rdf = {
    format_version: BIOIMAGEIO_FORMAT_VERSION,
    type: 'model',
    name: `COMI ${p.name}`.slice(0, 128),
    description: `Corrects out-of-focus microscopy images (CycleGAN ResNet generator, ${variant}), trained with comi-webgpu.`,
    authors: [{ name: 'comi-webgpu user' }],
    cite: [COMI_CITATION],
    license: 'MIT',
    tags: ['image-restoration', 'defocus', 'deblurring', 'cyclegan', '2d', c === 1 ? 'fluorescence-light-microscopy' : 'bright-field-microscopy', 'onnx'],
    covers: ['cover.png'],
    documentation: 'README.md',
    timestamp: config.created,
    inputs: [{
      id: 'input',
      description: `out-of-focus image, ${c === 1 ? 'gray' : 'RGB'}`,
      axes: [{ type: 'batch' }, { type: 'channel', channel_names: channelNames }, space('y'), space('x')],
      test_tensor: { source: 'test_input.npy', sha256: sha256(files['test_input.npy']) },
      data: { type: NPY_DTYPE[img.bitDepth] },
      preprocessing: steps.pre,
    }],
    outputs: [{
      id: 'output',
      description: `corrected image: ${steps.outputMeaning}`,
      axes: [{ type: 'batch' }, { type: 'channel', channel_names: channelNames }, same('y'), same('x')],
      test_tensor: { source: 'test_output.npy', sha256: sha256(files['test_output.npy']) },
      data: { type: 'float32' },
      postprocessing: steps.post,
    }],
    weights: {
      // Both exported from the same tensors (the ONNX initializers keep the PyTorch names), neither derived.
      onnx: { source: 'weights.onnx', sha256: sha256(p.onnx), opset_version: p.onnxOpset },
      pytorch_state_dict: {
        source: 'weights.pt',
        sha256: sha256(p.torchWeights),
        architecture: {
          source: 'comi_generator.py',
          sha256: sha256(p.architecture),
          callable: 'ResnetGenerator',
          kwargs: { input_nc: m.channels, output_nc: m.channels, ngf: m.ngf, n_blocks: m.blocks, upsampling: m.upsampling, global_residual: m.globalResidual,
            ...(rl ? { rl_sigma: rl.sigma, rl_iterations: rl.iterations } : {}), ...(bin > 1 ? { bin } : {}) },
        },
        pytorch_version: '1.13',
      },
    },
    config: {
      comi: {
        model: m,
        normalization: { mode: steps.mode, ...(steps.mode === 'percentile' ? { percentiles: config.data.percentiles ?? DEFAULT_PERCENTILES } : {}) },
        training: { data: config.data, losses: config.losses, optim: config.optim, vgg: config.vgg, seed: config.seed, created: config.created },
      },
    },
  };
  // README and cover are named by the description; sha256 for the other attachments is carried by their entries.
  files['rdf.yaml'] = new TextEncoder().encode(`# bioimage.io model description, written by comi-webgpu\n${stringify(rdf, { aliasDuplicateObjects: false })}`);
  return { rdf, files };
}

/** The package's files as one zip (what bioimage.io uploads and deepImageJ installs). */
export function zipPackage(files: Record<string, Uint8Array>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, [v, { level: k.endsWith('.npy') || k.endsWith('.onnx') ? 6 : 9 }]])));
}

export const packagePath = (dir: string, name: string) => join(dir, `${name}.bioimageio.zip`);
