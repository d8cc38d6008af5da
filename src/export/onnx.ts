// The correcting generator as an ONNX model (opset 17), built node by node from ResnetGenerator.forward and encoded
// by onnx-proto (the ONNX protobuf messages generated for protobufjs). Initializers keep the PyTorch state_dict
// names, so the ONNX file, the safetensors file and a PyTorch model share one vocabulary.
import type { onnx } from 'onnx-proto';
import onnxProto from 'onnx-proto'; // CommonJS: its namespace is the default export under Node's ESM
import type { StateDict } from '../model/module.js';
import type { GeneratorOptions } from '../model/generator.js';
import { gaussianPsf, type RlInput } from '../model/richardson_lucy.js';

const { ModelProto, TensorProto, AttributeProto } = onnxProto.onnx;

export const ONNX_OPSET = 17;
/** IR version 8 is the one that carries opset 17 (ONNX 1.12–1.13). */
const IR_VERSION = 8;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';

type Model = Pick<GeneratorOptions, 'inChannels' | 'outChannels' | 'ngf' | 'blocks' | 'upsampling' | 'globalResidual'>;
const FLOAT = TensorProto.DataType.FLOAT;
const INT64 = TensorProto.DataType.INT64;
const A = AttributeProto.AttributeType;

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto {
  const raw = new Uint8Array(values.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true); // ONNX raw_data is little-endian
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function int64Tensor(name: string, values: number[]): onnx.ITensorProto {
  return { name, dims: [values.length], dataType: INT64, int64Data: values };
}

const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: A.INTS, ints: v });
const str = (name: string, v: string): onnx.IAttributeProto => ({ name, type: A.STRING, s: new TextEncoder().encode(v) });
const float = (name: string, v: number): onnx.IAttributeProto => ({ name, type: A.FLOAT, f: v });
const int = (name: string, v: number): onnx.IAttributeProto => ({ name, type: A.INT, i: v });

/** Records nodes and initializers while walking the network in forward's order. */
class GraphBuilder {
  nodes: onnx.INodeProto[] = [];
  initializers: onnx.ITensorProto[] = [];
  private count = 0;

  constructor(private state: StateDict) {}

  private node(op: string, inputs: string[], attrs: onnx.IAttributeProto[] = [], output?: string): string {
    const name = `${op.toLowerCase()}_${this.count++}`;
    const out = output ?? name;
    this.nodes.push({ opType: op, name, input: inputs, output: [out], attribute: attrs });
    return out;
  }

  /** A state_dict tensor as an initializer (once). */
  param(key: string): string {
    const p = this.state[key];
    if (!p) throw new Error(`the generator weights have no '${key}'`);
    if (!this.initializers.some((t) => t.name === key)) this.initializers.push(floatTensor(key, p.shape, p.data));
    return key;
  }

  /** A constant shared by every node that needs it (pads, scales, InstanceNormalization's identity affine). */
  constant(key: string, make: () => onnx.ITensorProto): string {
    if (!this.initializers.some((t) => t.name === key)) this.initializers.push({ ...make(), name: key });
    return key;
  }

  reflectPad(x: string, p: number): string {
    const pads = this.constant(`pads_${p}`, () => int64Tensor('', [0, 0, p, p, 0, 0, p, p]));
    return this.node('Pad', [x, pads], [str('mode', 'reflect')]);
  }

  conv(x: string, prefix: string, k: number, stride = 1, pad = 0): string {
    return this.node('Conv', [x, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`)], [
      ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad]),
    ]);
  }

  convTranspose(x: string, prefix: string): string {
    return this.node('ConvTranspose', [x, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`)], [
      ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1]), ints('output_padding', [1, 1]),
    ]);
  }

  /** CycleGAN's InstanceNorm2d has no affine; ONNX requires scale and bias, so they are ones and zeros. */
  instanceNorm(x: string, channels: number): string {
    const scale = this.constant(`in_scale_${channels}`, () => floatTensor('', [channels], new Float32Array(channels).fill(1)));
    const bias = this.constant(`in_bias_${channels}`, () => floatTensor('', [channels], new Float32Array(channels)));
    return this.node('InstanceNormalization', [x, scale, bias], [float('epsilon', 1e-5)]);
  }

  /** Nearest ×2 exactly as PyTorch's F.interpolate(scale_factor=2): output pixel o reads input floor(o / 2). */
  upsample2x(x: string): string {
    const scales = this.constant('scales_2x', () => floatTensor('', [4], [1, 1, 2, 2]));
    return this.node('Resize', [x, '', scales], [
      str('mode', 'nearest'), str('coordinate_transformation_mode', 'asymmetric'), str('nearest_mode', 'floor'),
    ]);
  }

  /** binPlanes: the mean of n×n blocks, partial edge blocks averaging what they hold. */
  bin(x: string, n: number): string {
    return this.node('AveragePool', [x], [ints('kernel_shape', [n, n]), ints('strides', [n, n]), int('ceil_mode', 1), int('count_include_pad', 0)]);
  }

  /** unbinPlanes: bilinear ×n with each binned value at its block's centre and the edges held (PyTorch's and ONNX's
   * half-pixel convention), cropped to the height and width of `like`. */
  unbin(x: string, n: number, like: string, output: string): string {
    const scales = this.constant(`scales_${n}x`, () => floatTensor('', [4], [1, 1, n, n]));
    const up = this.node('Resize', [x, '', scales], [str('mode', 'linear'), str('coordinate_transformation_mode', 'half_pixel')]);
    const size = this.node('Shape', [like], [int('start', 2)]);
    return this.node('Slice', [up, this.constant('zeros_2', () => int64Tensor('', [0, 0])), size, this.constant('axes_hw', () => int64Tensor('', [2, 3]))], [], output);
  }

  op(op: 'Relu' | 'Tanh', x: string, output?: string): string {
    return this.node(op, [x], [], output);
  }

  add(a: string, b: string, output?: string): string {
    return this.node('Add', [a, b], [], output);
  }

  /** Elementwise a ∘ b, b a tensor or a float scalar (broadcast). */
  binary(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: string, b: string | number): string {
    const rhs = typeof b === 'number' ? this.constant(`scalar_${b}`, () => floatTensor('', [], [b])) : b;
    return this.node(op, [a, rhs]);
  }

  /**
   * The corrector's Richardson–Lucy input stage, as deconvolveNormalized computes it (richardson_lucy.ts): [−1, 1]
   * to unit counts (negatives to 0), mirror-padded by the PSF's size, `iterations` updates from 0.5 with zero-padded
   * 'same' convolutions, cropped, back to [−1, 1]. The Gaussian is symmetric, so the PSF and its mirror are one
   * blur. ONNX's reflect Pad needs the image larger than the PSF (a 2·⌈3σ⌉ + 1 square).
   */
  rlStage(x: string, channels: number, rl: RlInput): string {
    const psf = gaussianPsf(rl.sigma);
    const k = psf.width;
    const r = (k - 1) / 2;
    const taps = Float32Array.from(psf.separable!.rows);
    const all = new Float32Array(channels * k);
    for (let c = 0; c < channels; c++) all.set(taps, c * k);
    const rows = this.constant(`rl_rows_${channels}`, () => floatTensor('', [channels, 1, 1, k], all));
    const columns = this.constant(`rl_columns_${channels}`, () => floatTensor('', [channels, 1, k, 1], all));
    // Separable: a depthwise pass along the rows, then one along the columns (pads: top, left, bottom, right).
    const pass = (t: string, w: string, shape: number[], pads: number[]) => this.node('Conv', [t, w], [ints('kernel_shape', shape), ints('pads', pads), int('group', channels)]);
    const blur = (t: string) => pass(pass(t, rows, [1, k], [0, r, 0, r]), columns, [k, 1], [r, 0, r, 0]);
    const observed = this.reflectPad(this.op('Relu', this.binary('Mul', this.binary('Add', x, 1), 0.5)), k);
    let u = this.binary('Add', this.binary('Mul', observed, 0), 0.5);
    for (let i = 0; i < rl.iterations; i++) u = this.binary('Mul', u, blur(this.binary('Div', observed, this.binary('Add', blur(u), 1e-12))));
    const crop = this.node('Slice', [u, this.constant(`slice_from_${k}`, () => int64Tensor('', [k, k])), this.constant(`slice_to_${k}`, () => int64Tensor('', [-k, -k])), this.constant('axes_hw', () => int64Tensor('', [2, 3]))]);
    return this.binary('Sub', this.binary('Mul', crop, 2), 1);
  }
}

/** Adds the generator's nodes: the same layers and order as ResnetGenerator.forward, from `input` to `output`. */
function buildGenerator(g: GraphBuilder, m: Model, input: string, output: string): void {
  const normRelu = (x: string, c: number) => g.op('Relu', g.instanceNorm(x, c));
  let h = normRelu(g.conv(g.reflectPad(input, 3), 'model.1', 7), m.ngf);
  let index = 4;
  for (let i = 0; i < 2; i++, index += 3) h = normRelu(g.conv(h, `model.${index}`, 3, 2, 1), m.ngf * 2 ** (i + 1));
  const c4 = m.ngf * 4;
  for (let b = 0; b < m.blocks; b++, index++) {
    const p = `model.${index}.conv_block`;
    const r = normRelu(g.conv(g.reflectPad(h, 1), `${p}.1`, 3), c4);
    h = g.add(h, g.instanceNorm(g.conv(g.reflectPad(r, 1), `${p}.5`, 3), c4));
  }
  for (let i = 0; i < 2; i++, index += 3) {
    const c = m.ngf * 2 ** (1 - i);
    const up = m.upsampling === 'transpose' ? g.convTranspose(h, `model.${index}`) : g.conv(g.reflectPad(g.upsample2x(h), 1), `model.${index}`, 3);
    h = normRelu(up, c);
  }
  const head = g.conv(g.reflectPad(h, 3), `model.${index + 1}`, 7);
  if (m.globalResidual) g.add(g.op('Tanh', head), input, output);
  else g.op('Tanh', head, output);
}

function valueInfo(name: string, channels: number): onnx.IValueInfoProto {
  const dims = [{ dimParam: 'batch' }, { dimValue: channels }, { dimParam: 'height' }, { dimParam: 'width' }];
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims } } } };
}

export interface OnnxExportOptions {
  /** Shown by model viewers (Netron) and kept in the file; e.g. the run folder's name. */
  name: string;
  producerVersion: string;
  /** Key/value pairs stored as ONNX metadata_props (e.g. the run's normalisation). */
  metadata?: Record<string, string>;
  /** The run's Richardson–Lucy input stage (train --rl-input), computed in the graph before the generator. */
  rlInput?: RlInput;
  /** The run's binning (train --bin): the graph bins its input n×n before the stage and the generator and upsamples
   * the generator's output back. */
  bin?: number;
}

/**
 * ONNX bytes of a generator: input 'input' [batch, C, height, width] in [−1, 1] (height and width multiples of 4, of
 * 4·bin binned), output 'output' of the same shape.
 */
export function generatorToOnnx(state: StateDict, model: Model, opts: OnnxExportOptions): Uint8Array {
  const g = new GraphBuilder(state);
  const n = opts.bin ?? 1;
  const binned = n > 1 ? g.bin(ONNX_INPUT, n) : ONNX_INPUT;
  const staged = opts.rlInput ? g.rlStage(binned, model.inChannels, opts.rlInput) : binned;
  buildGenerator(g, model, staged, n > 1 ? 'generator_output' : ONNX_OUTPUT);
  if (n > 1) g.unbin('generator_output', n, ONNX_INPUT, ONNX_OUTPUT);
  const unused = Object.keys(state).filter((k) => !g.initializers.some((t) => t.name === k));
  if (unused.length) throw new Error(`the generator weights have tensors the architecture does not use: ${unused.slice(0, 3).join(', ')}`);
  const doc = `COMI generator (CycleGAN ResnetGenerator, ngf ${model.ngf}, ${model.blocks} blocks, ${model.upsampling} upsampling${model.globalResidual ? ', global residual' : ''}${opts.rlInput ? `, Richardson–Lucy input stage (Gaussian σ ${opts.rlInput.sigma} px, ${opts.rlInput.iterations} iterations)` : ''}` +
    `${n > 1 ? `, on the input binned ${n}×${n} and upsampled back` : ''}): input and output in [-1, 1]; height and width multiples of ${4 * n}`;
  const proto = ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'comi-webgpu',
    producerVersion: opts.producerVersion,
    docString: doc,
    graph: {
      name: opts.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT, model.inChannels)],
      output: [valueInfo(ONNX_OUTPUT, model.outChannels)],
    },
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(proto).finish();
}
