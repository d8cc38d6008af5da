// The run folder written by `comi train` and read by correction, evaluation and the demo:
//   config.json, split.json, log.jsonl, samples/iter_NNNNNNN.png, checkpoints/latest.safetensors and
//   generator.safetensors (G_s alone, PyTorch state_dict names, the run config in its metadata).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { packageRoot } from '../io/package_root.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { writeSafetensors } from '../io/safetensors_file.js';
import { ResnetGenerator } from '../model/generator.js';
import type { UnetGenerator } from '../model/unet.js';
import type { Module } from '../model/module.js';
import type { GanLoss } from '../model/cyclegan.js';
import type { ContentTerm } from '../model/content_loss.js';
import type { RlInput } from '../model/richardson_lucy.js';
import type { Layout } from '../data/dataset.js';
import type { NormalizationMode } from '../data/normalize.js';
import type { TrainSchedule } from './trainer.js';
import { RUN_FORMAT, RUN_VERSION, GENERATOR_FORMAT, GENERATOR_VERSION, checkConfig, generatorFromBytes, networkFromBytes, type TrainMethod } from './generator_file.js';

export { RUN_FORMAT, RUN_VERSION, GENERATOR_FORMAT, GENERATOR_VERSION };

export { TRAIN_METHODS, type TrainMethod } from './generator_file.js';

export interface RunConfig {
  format: typeof RUN_FORMAT;
  version: typeof RUN_VERSION;
  /** ISO time the run was started. */
  created: string;
  /** The command line that started it. */
  argv: string[];
  /** method: absent in runs made before the baselines (comi). downs: pix2pix's U-Net depth. */
  model: {
    channels: 1 | 3; ngf: number; ndf: number; blocks: number; upsampling: 'transpose' | 'resize'; globalResidual: boolean;
    method?: TrainMethod; downs?: number;
    /** The corrector's input is first deconvolved by Richardson–Lucy with this Gaussian PSF (model/richardson_lucy.ts),
     * in training and in correction alike; absent: the network sees the input as it is. */
    rlInput?: RlInput;
  };
  data: {
    root: string;
    layout: Layout;
    /** paired / unpaired folders; null for zstack. */
    source: string | null;
    target: string | null;
    /** zstack folders; null otherwise. */
    inFocus: string | null;
    planes: string[] | null;
    size: number;
    normalization: NormalizationMode | 'auto';
    percentiles?: { pLow: number; pHigh: number };
    /** 'structured': paired crops are redrawn until they show structure (dataset.ts); absent in older runs: 'any'. */
    crops?: 'any' | 'structured';
    /** 'shared': each pair's target in its source's intensity mapping (dataset.ts); absent in older runs: 'separate'. */
    pairScale?: 'shared' | 'separate';
    /** Pairs aligned by integer shifts found within ± this many pixels (register.ts); absent: not registered. */
    register?: number;
    /** Images binned n×n before everything else (src/data/bin.ts), in training and in correction; absent: 1. */
    bin?: number;
  };
  /** content: the terms compared (absent in runs made before pixel terms existed: VGG19 features). */
  losses: { gan: GanLoss; adversarialWeight: number; contentWeight: number; cycleWeight: number; content?: ContentTerm[] };
  /** What the content loss compared (VggFeatures.describe()); null without content loss. */
  vgg: { source: string; layers: string[]; preprocessing: string } | null;
  /** decayStart: the iteration after which the learning rate falls linearly to 0 at `iterations`. batch (default 1)
   * and poolSize (past fakes shown to the discriminators, CycleGAN's image pool, default 50) go beyond the shared
   * run-folder contract, so readers of other configs find them absent. */
  optim: { lr: number; beta1: number; beta2: number; iterations: number; decayStart: number; batch?: number; poolSize?: number };
  seed: number;
  /** G_s started from this corrector's weights (a run folder or pretrained:NAME) instead of random ones. */
  init?: string;
  /** G_s's last convolution started at zero (train --start-at-input): with the global residual, the corrector
   * started as its input. */
  startAtInput?: boolean;
  /** 'f16': the generators' feature maps were stored as f16 in training (train --precision); absent: f32. */
  precision?: 'f16';
  /** The last session's checkpoint, sample, log and NaN-check settings: a resumed run keeps them unless given again. */
  schedule?: TrainSchedule;
}

export function runPaths(dir: string) {
  return {
    config: join(dir, 'config.json'),
    split: join(dir, 'split.json'),
    log: join(dir, 'log.jsonl'),
    samples: join(dir, 'samples'),
    checkpoints: join(dir, 'checkpoints'),
    checkpoint: join(dir, 'checkpoints', 'latest.safetensors'),
    generator: join(dir, 'generator.safetensors'),
  };
}

export function writeRunConfig(dir: string, config: RunConfig): void {
  writeFileAtomic(runPaths(dir).config, `${JSON.stringify(config, null, 2)}\n`);
}

export const PRETRAINED_PREFIX = 'pretrained:';

/** A run folder, or a corrector shipped in the package's models/ folder named 'pretrained:NAME'. */
export function modelFolder(spec: string): string {
  if (!spec.startsWith(PRETRAINED_PREFIX)) return spec;
  const name = spec.slice(PRETRAINED_PREFIX.length);
  const root = join(packageRoot(), 'models');
  const known = (existsSync(root) ? readdirSync(root) : []).filter((f) => existsSync(join(root, f, 'generator.safetensors'))).sort();
  if (!known.includes(name)) throw new Error(`no pretrained model '${name}'; shipped: ${known.map((k) => PRETRAINED_PREFIX + k).join(', ') || 'none'}`);
  return join(root, name);
}

function checkRunFolder(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`run folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`run folder ${dir} is a file, not a folder`);
}

/** config.json of a run folder, checked. */
export function readRunConfig(spec: string): RunConfig {
  const dir = modelFolder(spec);
  checkRunFolder(dir);
  const path = runPaths(dir).config;
  if (!existsSync(path)) throw new Error(`${dir} is not a run folder: it has no config.json`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  return checkConfig(doc, path);
}

/** Writes G_s (S → T, the corrector) with the run config in its metadata; atomic. */
export async function saveGenerator(path: string, generator: Module, config: RunConfig): Promise<void> {
  writeSafetensors(path, await generator.stateDict(), { format: GENERATOR_FORMAT, version: GENERATOR_VERSION, config: JSON.stringify(config) });
}

/** The file of a run folder's corrector (generator.safetensors), checked to exist. */
function generatorPath(spec: string): string {
  const runDir = modelFolder(spec);
  checkRunFolder(runDir);
  const path = runPaths(runDir).generator;
  if (!existsSync(path)) {
    throw new Error(`${runDir} has no generator.safetensors: not a training run folder, or training stopped before its first checkpoint`);
  }
  return path;
}

/** The ResNet corrector of a run folder and its config (comi, cyclegan, deblurgan). Opens the GPU if needed. */
export async function loadGenerator(spec: string): Promise<{ generator: ResnetGenerator; config: RunConfig }> {
  const path = generatorPath(spec);
  return generatorFromBytes(readFileSync(path), path);
}

/** The correcting generator of a run folder of any method and its config. Opens the GPU if needed. */
export async function loadNetwork(spec: string): Promise<{ generator: ResnetGenerator | UnetGenerator; config: RunConfig }> {
  const path = generatorPath(spec);
  return networkFromBytes(readFileSync(path), path);
}
