// Library entry (`import … from 'comi-webgpu'`): the engine (device, tensors, tape, ops), the COMI networks, and the
// tools built on them (image I/O, metrics, correction of trained runs).
import './platform/node.js';
export { initGpu, rt, releaseRuntime, type Runtime } from './graph/runtime.js';
export { NoAdapterError, type DeviceOptions } from './graph/device.js';
export { Tensor, scope, type Shape } from './graph/tensor.js';
export { backward, noGrad, zeroGrad } from './autograd/tape.js';
export { gradcheck } from './autograd/gradcheck.js';
export { Adam } from './autograd/adam.js';
export { conv2d } from './kernels/conv2d.js';
export { convTranspose2d } from './kernels/conv_transpose2d.js';
export { instanceNorm } from './kernels/instance_norm.js';
// A kernel strategy forced instead of the tuned one (tests, benchmarks): GPUs' strategies on any adapter.
export { setConvTiling, type ConvTiling } from './kernels/conv_gemm.js';
export { setReduction } from './kernels/autotune.js';
export { batchNorm } from './kernels/batch_norm.js';
export { reflectionPad2d, zeroPad2d } from './kernels/pad.js';
export { relu, leakyRelu, tanh, sigmoid, scale } from './kernels/unary.js';
export { add, sub, mul } from './kernels/binary.js';
export { sum, mean } from './kernels/reduce.js';
export { mseLoss, l1Loss, bceWithLogitsLoss } from './kernels/losses.js';
export { concat, catBatch, sliceBatch } from './kernels/concat.js';
export { maxPool2x2 } from './kernels/max_pool.js';
export { avgPool2x2 } from './kernels/avg_pool.js';
export { upsampleNearest2x } from './kernels/upsample.js';
export { correlate1d } from './kernels/correlate1d.js';
export { dropout } from './kernels/dropout.js';
export { Module } from './model/module.js';
export { ResnetBlock } from './model/resnet_block.js';
export { ResnetGenerator } from './model/generator.js';
export { PatchDiscriminator } from './model/discriminator.js';
export { CycleGan } from './model/cyclegan.js';
export { loadVggFeatures } from './model/vgg19.js';
export { loadGenerator } from './train/run_folder.js';
export { correctImage, correctFiles } from './correct/correct.js';
export { readImage, writeImage, type Image } from './data/image.js';
export { psnr, ssim, pcc } from './eval/metrics.js';
export { scoreNormalized, normalizeTruth, normalizeMinMse } from './eval/convention.js';
export { richardsonLucy, deconvolveImage, fitRichardsonLucy, gaussianPsf, opticsPsf, readPsf } from './eval/deconvolve.js';
