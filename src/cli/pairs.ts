// Paired images on disk (DIR/SOURCE and DIR/TARGET, same file names) for scoring and for fitting Richardson–Lucy:
// listing, registration windows and the evenly spaced, centre-cropped subset a fit uses. Shared by `comi compare`
// and `train --rl-input fit`.
import { existsSync, readdirSync } from 'node:fs';
import { join, extname } from 'node:path';
import { UsageError } from './errors.js';
import { Progress } from './progress.js';
import type { RichardsonLucyFit } from '../eval/deconvolve.js';
import { readImage, centreCrop, cropImage, IMAGE_EXTENSIONS, type Image } from '../data/image.js';
import { normalize } from '../data/normalize.js';
import { estimateShift, overlap } from '../data/register.js';
import { binImage } from '../data/bin.js';

export interface Pair { name: string; source: string; target: string }

export function pairsOf(root: string, source: string, target: string): Pair[] {
  const list = (d: string) => {
    const dir = join(root, d);
    if (!existsSync(dir)) throw new UsageError(`${dir} does not exist (expected ${source}/ and ${target}/ folders of matching names in ${root})`);
    return readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())).sort();
  };
  const targets = new Set(list(target));
  const pairs = list(source).filter((f) => targets.has(f)).map((f) => ({ name: f, source: join(root, source, f), target: join(root, target, f) }));
  if (pairs.length === 0) throw new UsageError(`no matching names in ${join(root, source)} and ${join(root, target)}`);
  return pairs;
}

/** A pair's input and truth windows after registration within ±radius (the whole images when radius is 0). */
export interface Windows { dx: number; dy: number; input: (img: Image) => Image; truth: (img: Image) => Image }

export function pairWindows(input: Image, truth: Image, radius: number): Windows {
  if (radius === 0) return { dx: 0, dy: 0, input: (img) => img, truth: (img) => img };
  const planes = (img: Image) => ({ ...img, planes: normalize(img, { kind: 'range', min: 0, max: 1 }) });
  const { dx, dy } = estimateShift(planes(input), planes(truth), radius);
  const o = overlap(input.width, input.height, dx, dy);
  return {
    dx, dy,
    input: (img) => cropImage(img, o.source.x0, o.source.y0, o.width, o.height),
    truth: (img) => cropImage(img, o.target.x0, o.target.y0, o.width, o.height),
  };
}

/** The training pairs an RL fit scores by default (compare's RL row, `train --rl-input fit`): how many, and their
 *  centre crop in px. */
export const RL_FIT_PAIRS = { count: 12, crop: 256 };

/** Up to `count` evenly spaced pairs of the folder, read, binned bin×bin (default 1: not), registered within
 *  ±register (binned) px and centre-cropped to `crop` px (null: whole images): what an RL fit scores, with the
 *  shorter side of each uncropped pair (side). */
export async function fitPairs(root: string, source: string, target: string, o: { count: number; crop: number | null; register: number; bin?: number }) {
  const all = pairsOf(root, source, target);
  const chosen = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / o.count)) === 0).slice(0, o.count);
  const crop = (img: Image) => (o.crop === null ? img : centreCrop(img, o.crop));
  return Promise.all(chosen.map(async (p) => {
    const [input, truth] = [binImage(await readImage(p.source), o.bin ?? 1), binImage(await readImage(p.target), o.bin ?? 1)];
    const w = pairWindows(input, truth, o.register);
    const [source, target] = [w.input(input), w.truth(truth)];
    return { name: p.name, source: crop(source), target: crop(target), side: Math.min(source.width, source.height) };
  }));
}

/** A progress line for an RL fit (fitRichardsonLucy's onTrial), opened at the first trial; done() closes it. */
export function fitProgress(label: string, sigma = true) {
  let bar: Progress | null = null;
  return {
    onTrial: (done: number, total: number, best: RichardsonLucyFit) => {
      bar = (bar ?? new Progress(label, total)).setTotal(total);
      bar.update(done, `${sigma ? `σ ${best.sigma.toFixed(2)} px, ` : ''}${best.iterations} it, ${best.psnr.toFixed(2)} dB`);
    },
    done: () => bar?.done(),
  };
}
