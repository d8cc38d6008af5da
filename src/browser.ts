// Browser entry (`import … from 'comi-webgpu/browser'`): the engine on navigator.gpu (device, tensors, tape, ops,
// the COMI generator), generator files, the tiled corrector and the PNG/JPEG/TIFF codecs. Nothing here touches Node.
import './platform/browser.js';
export { initGpu, rt, releaseRuntime, type Runtime } from './graph/runtime.js';
export { NoAdapterError } from './graph/device.js';
export { Tensor, scope, type Shape } from './graph/tensor.js';
export { hashUniform } from './graph/random.js';
export { backward, noGrad, zeroGrad } from './autograd/tape.js';
export { conv2d } from './kernels/conv2d.js';
export { convTranspose2d } from './kernels/conv_transpose2d.js';
export { instanceNorm } from './kernels/instance_norm.js';
// A kernel strategy forced instead of the tuned one (tests, benchmarks): GPUs' strategies on any adapter.
export { setConvTiling, type ConvTiling } from './kernels/conv_gemm.js';
export { setReduction } from './kernels/autotune.js';
export { ResnetGenerator } from './model/generator.js';
export { generatorFromBytes } from './train/generator_file.js';
export { correctImage, runSettings, type CorrectSettings } from './correct/core.js';
export { checkImage, sniffFormat, type Image, type Format } from './data/image_type.js';
export { percentiles, DEFAULT_PERCENTILES } from './data/normalize.js';
export { decodePng, encodePng } from './data/png.js';
export { decodeJpeg, encodeJpeg } from './data/jpeg.js';
export { decodeTiff, encodeTiff } from './data/tiff.js';
