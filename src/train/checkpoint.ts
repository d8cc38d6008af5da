// A checkpoint is one safetensors file: the networks (CycleGAN's four, a paired baseline's two), both Adam states,
// the image pools, plus metadata
// (iteration, RNG states, config) — everything `--resume` needs to continue bit for bit.
import { existsSync } from 'node:fs';
import type { NamedArray } from '../io/safetensors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors_file.js';
import type { GanModel } from '../model/cyclegan.js';
import type { Adam } from '../autograd/adam.js';
import type { ImagePool } from '../model/image_pool.js';
import type { KeptCorrector } from './validation.js';

export const CHECKPOINT_FORMAT = 'comi-checkpoint';
export const CHECKPOINT_VERSION = '1';

export interface CheckpointMeta {
  iteration: number;
  /** Serialised states of the run's random generators (data sampling, image pools). */
  rng: unknown;
  config: unknown;
  /** Training time so far (wall seconds, summed over resumed sessions). */
  seconds: number;
  /** Factor on the scheduled learning rate after rollbacks from non-finite values (absent: 1). */
  lrScale?: number;
  /** --keep best: the checkpoint that generator.safetensors holds and its validation score. */
  kept?: KeptCorrector;
}

async function optimizerTensors(prefix: string, opt: Adam, out: Record<string, NamedArray>): Promise<number> {
  const s = await opt.state();
  s.m.forEach((m, i) => (out[`${prefix}.m.${i}`] = { shape: [m.length], data: m }));
  s.v.forEach((v, i) => (out[`${prefix}.v.${i}`] = { shape: [v.length], data: v }));
  return s.step;
}

async function poolTensors(prefix: string, pool: ImagePool, out: Record<string, NamedArray>): Promise<void> {
  (await pool.state()).forEach((img, i) => (out[`${prefix}.${i}`] = img));
}

/** A checkpoint as held in memory: what writeCheckpoint writes and readCheckpoint returns. */
export interface CheckpointState {
  tensors: Record<string, NamedArray>;
  meta: CheckpointMeta;
  stepG: number;
  stepD: number;
}

/** Reads the model's whole training state back from the GPU. */
export async function captureCheckpoint(model: GanModel, meta: CheckpointMeta): Promise<CheckpointState> {
  const tensors: Record<string, NamedArray> = {};
  for (const [prefix, net] of model.networks()) {
    for (const [name, t] of Object.entries(await net.stateDict())) tensors[`${prefix}.${name}`] = t;
  }
  const stepG = await optimizerTensors('optG', model.optG, tensors);
  const stepD = await optimizerTensors('optD', model.optD, tensors);
  for (const [prefix, pool] of model.pools()) await poolTensors(prefix, pool, tensors);
  return { tensors, meta, stepG, stepD };
}

export function writeCheckpoint(path: string, { tensors, meta, stepG, stepD }: CheckpointState): void {
  writeSafetensors(path, tensors, {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    iteration: String(meta.iteration),
    stepG: String(stepG),
    stepD: String(stepD),
    rng: JSON.stringify(meta.rng),
    config: JSON.stringify(meta.config),
    seconds: String(meta.seconds),
    ...(meta.lrScale !== undefined && meta.lrScale !== 1 ? { lrScale: String(meta.lrScale) } : {}),
    ...(meta.kept ? { kept: JSON.stringify(meta.kept) } : {}),
  });
}

export function readCheckpoint(path: string): CheckpointState {
  if (!existsSync(path)) throw new Error(`checkpoint ${path} does not exist`);
  const { tensors, metadata } = readSafetensors(path);
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${path} is not a COMI checkpoint`);
  if (metadata.version !== CHECKPOINT_VERSION) {
    throw new Error(`${path} is checkpoint version ${metadata.version}; this program reads version ${CHECKPOINT_VERSION}`);
  }
  let meta: CheckpointMeta;
  try {
    meta = {
      iteration: Number(metadata.iteration), rng: JSON.parse(metadata.rng), config: JSON.parse(metadata.config), seconds: Number(metadata.seconds ?? 0),
      lrScale: Number(metadata.lrScale ?? 1),
      ...(metadata.kept ? { kept: JSON.parse(metadata.kept) as KeptCorrector } : {}),
    };
  } catch {
    throw new Error(`${path}: the checkpoint's metadata is damaged (rng, config or kept is not JSON)`);
  }
  const stepG = Number(metadata.stepG);
  const stepD = Number(metadata.stepD);
  if (![meta.iteration, stepG, stepD].every((n) => Number.isSafeInteger(n) && n >= 0) || !(meta.lrScale! > 0 && meta.lrScale! <= 1)) {
    throw new Error(`${path}: the checkpoint's metadata is damaged (iteration or optimiser steps are not counts)`);
  }
  return { tensors, meta, stepG, stepD };
}

function pick(tensors: Record<string, NamedArray>, prefix: string): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

function indexed(tensors: Record<string, NamedArray>, prefix: string): Float32Array[] {
  const part = pick(tensors, prefix);
  return Object.keys(part)
    .map(Number)
    .sort((a, b) => a - b)
    .map((i) => part[String(i)].data);
}

/** Loads a checkpoint into a model built with the same configuration. */
export function restoreCheckpoint(model: GanModel, ckpt: CheckpointState): void {
  const t = ckpt.tensors;
  for (const [prefix, net] of model.networks()) net.loadStateDict(pick(t, `${prefix}.`));
  model.optG.loadState({ step: ckpt.stepG, m: indexed(t, 'optG.m.'), v: indexed(t, 'optG.v.') });
  model.optD.loadState({ step: ckpt.stepD, m: indexed(t, 'optD.m.'), v: indexed(t, 'optD.v.') });
  for (const [prefix, pool] of model.pools()) {
    const part = pick(t, `${prefix}.`);
    pool.loadState(Object.keys(part).map(Number).sort((a, b) => a - b).map((i) => part[String(i)]));
  }
}
