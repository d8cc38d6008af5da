// A generator file (generator.safetensors: the corrector's weights, its run config in the metadata) read from
// bytes: shared by run folders (Node) and the web app.
import { decodeSafetensors } from '../io/safetensors.js';
import { initGpu } from '../graph/runtime.js';
import { ResnetGenerator } from '../model/generator.js';
import { UnetGenerator } from '../model/unet.js';
import { nonFiniteArrays } from '../data/finite.js';
import type { RunConfig } from './run_folder.js';

/** What `train --method` trains: COMI, or a baseline of the paper's Table 2 (docs/results.md). */
export const TRAIN_METHODS = ['comi', 'cyclegan', 'pix2pix', 'deblurgan'] as const;
export type TrainMethod = (typeof TRAIN_METHODS)[number];

export const RUN_FORMAT = 'comi-run';
export const RUN_VERSION = 1;
export const GENERATOR_FORMAT = 'comi-generator';
export const GENERATOR_VERSION = '1';

/** The checks every reader of a config needs: format, version, and the fields that rebuild the generator. */
export function checkConfig(config: any, where: string): RunConfig {
  if (!config || typeof config !== 'object' || config.format !== RUN_FORMAT) throw new Error(`${where} is not a COMI run configuration (format '${config?.format}')`);
  if (config.version !== RUN_VERSION) throw new Error(`${where} is run format version ${config.version}; this program reads version ${RUN_VERSION}`);
  const m = config.model;
  const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!m || ![1, 3].includes(m.channels) || !positive(m.ngf) || !positive(m.ndf) || !Number.isInteger(m.blocks) || m.blocks < 0
    || !['transpose', 'resize'].includes(m.upsampling) || typeof m.globalResidual !== 'boolean') {
    throw new Error(`${where}: model must have channels 1 or 3, positive ngf/ndf, blocks ≥ 0, upsampling transpose|resize and globalResidual`);
  }
  if (m.method !== undefined && !(TRAIN_METHODS as readonly string[]).includes(m.method)) throw new Error(`${where}: unknown method '${m.method}'; known: ${TRAIN_METHODS.join(', ')}`);
  if (m.method === 'pix2pix' && !(Number.isInteger(m.downs) && m.downs >= 5)) throw new Error(`${where}: a pix2pix model needs downs ≥ 5`);
  return config as RunConfig;
}

/** A generator file's weights and run config, checked (path names it in messages). */
function readGeneratorFile(bytes: Uint8Array, path: string): { tensors: ReturnType<typeof decodeSafetensors>['tensors']; config: RunConfig } {
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  const bad = nonFiniteArrays(tensors);
  if (bad) throw new Error(`${path} holds ${bad}: its training diverged; it cannot correct images (train again, or use another run)`);
  if (metadata.format !== GENERATOR_FORMAT) throw new Error(`${path} is not a COMI generator file (format '${metadata.format ?? 'none'}')`);
  if (metadata.version !== GENERATOR_VERSION) {
    throw new Error(`${path} is generator file version ${metadata.version}; this program reads version ${GENERATOR_VERSION}`);
  }
  try {
    return { tensors, config: checkConfig(JSON.parse(metadata.config), path) };
  } catch (err) {
    throw new Error(err instanceof SyntaxError ? `${path}: its config metadata is not JSON` : (err as Error).message);
  }
}

/** The network a checked file describes, with its weights loaded. Opens the GPU if needed. */
async function buildNetwork({ tensors, config }: ReturnType<typeof readGeneratorFile>, path: string): Promise<ResnetGenerator | UnetGenerator> {
  await initGpu();
  const m = config.model;
  const generator = m.method === 'pix2pix'
    ? new UnetGenerator({ inChannels: m.channels, outChannels: m.channels, ngf: m.ngf, downs: m.downs! })
    : new ResnetGenerator({ inChannels: m.channels, outChannels: m.channels, ngf: m.ngf, blocks: m.blocks, upsampling: m.upsampling, globalResidual: m.globalResidual });
  try {
    generator.loadStateDict(tensors);
  } catch (err) {
    generator.dispose();
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  return generator;
}

/** The correcting generator (of any method) in a generator file's bytes, and its config (path names it in
 * messages). Opens the GPU if needed. */
export async function networkFromBytes(bytes: Uint8Array, path: string): Promise<{ generator: ResnetGenerator | UnetGenerator; config: RunConfig }> {
  const file = readGeneratorFile(bytes, path);
  return { generator: await buildNetwork(file, path), config: file.config };
}

/** The tiled corrector (ResNet: comi, cyclegan, deblurgan) in a generator file's bytes; a pix2pix U-Net is refused
 *  from its config, before any weights reach the GPU. */
export async function generatorFromBytes(bytes: Uint8Array, path: string): Promise<{ generator: ResnetGenerator; config: RunConfig }> {
  const file = readGeneratorFile(bytes, path);
  if (file.config.model.method === 'pix2pix') {
    throw new Error(`${path} is a pix2pix run: its U-Net generator is not supported here (only \`comi compare\` corrects with it)`);
  }
  return { generator: (await buildNetwork(file, path)) as ResnetGenerator, config: file.config };
}
