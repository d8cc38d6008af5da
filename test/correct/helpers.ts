// Small randomly initialised generators and run folders in the run-folder contract, for correction tests.
import { mkdirSync } from 'node:fs';
import { hashNormal, hashUniform } from '../../src/graph/random.js';
import { nameSeed } from '../../src/model/module.js';
import { ResnetGenerator, type GeneratorOptions } from '../../src/model/generator.js';
import { saveGenerator, writeRunConfig, runPaths, RUN_FORMAT, RUN_VERSION, type RunConfig } from '../../src/train/run_folder.js';

/**
 * A generator whose conv weights are N(0, 1/fan_in) instead of CycleGAN's N(0, 0.02): with 0.02 the signal of a
 * tiny untrained network shrinks towards 0 and tests could pass on outputs that barely depend on the input.
 */
export function testGenerator(opts: Partial<GeneratorOptions>): ResnetGenerator {
  const g = new ResnetGenerator({ inChannels: 3, outChannels: 3, ngf: 4, blocks: 1, seed: 7, ...opts });
  for (const [name, t] of g.namedParameters()) {
    const fanIn = t.shape.length === 4 ? t.shape[1] * t.shape[2] * t.shape[3] : 0; // biases get N(0, 0.1)
    if (fanIn > 0) t.writeData(hashNormal(t.size, nameSeed(11, name), 1 / Math.sqrt(fanIn)));
    else t.writeData(hashNormal(t.size, nameSeed(12, name), 0.1));
  }
  return g;
}

/** A smooth image with structure at several scales plus noise: C×H×W in [−1, 1]. */
export function testImage(channels: number, height: number, width: number, seed: number): Float32Array {
  const noise = hashUniform(channels * height * width, seed, 0.3);
  const out = new Float32Array(noise.length);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (c * height + y) * width + x;
        out[i] = 0.5 * Math.sin(x / (7 + c) + y / 11) * Math.cos(y / (5 + 2 * c) - x / 23) + noise[i];
      }
    }
  }
  return out;
}

export function runConfig(model: Partial<RunConfig['model']>, data: Partial<RunConfig['data']> = {}): RunConfig {
  return {
    format: RUN_FORMAT, version: RUN_VERSION, created: new Date(0).toISOString(), argv: ['test'],
    model: { channels: 3, ngf: 4, ndf: 4, blocks: 1, upsampling: 'transpose', globalResidual: false, ...model },
    data: { root: '/nonexistent', layout: 'paired', source: 'blurred', target: 'clear', inFocus: null, planes: null, size: 64, normalization: 'auto', ...data },
    losses: { gan: 'lsgan', adversarialWeight: 1, contentWeight: 1, cycleWeight: 0.001 },
    vgg: null,
    optim: { lr: 1e-4, beta1: 0.5, beta2: 0.99, iterations: 10, decayStart: 5 },
    seed: 1,
  };
}

/** Writes RUN/config.json and RUN/generator.safetensors for a test generator of the given model config. */
export async function writeTestRun(dir: string, config: RunConfig): Promise<ResnetGenerator> {
  mkdirSync(dir, { recursive: true });
  const m = config.model;
  const g = testGenerator({ inChannels: m.channels, outChannels: m.channels, ngf: m.ngf, blocks: m.blocks, upsampling: m.upsampling, globalResidual: m.globalResidual });
  writeRunConfig(dir, config);
  await saveGenerator(runPaths(dir).generator, g, config);
  return g;
}
