// The weight cache: each release is converted once into DIR/vgg19-<source>.safetensors (our layout, with the
// preprocessing and the origin in its metadata), so training never needs the network or the original files.
import { comiCacheDir } from '../io/cache_dir.js';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../io/safetensors_file.js';
import {
  CACHE_FORMAT, OFFICIAL_VGG19, PREPROCESSING, VGG_CONVS, matchesDigest, readVggWeightFile, validateVggWeights,
  type VggWeights, type WeightSource,
} from './vgg19.js';

/** $COMI_CACHE/weights, else $XDG_CACHE_HOME/comi/weights, else ~/.cache/comi/weights. */
export function defaultWeightsDir(): string {
  return join(comiCacheDir(), 'weights');
}

export function cachedVggPath(source: WeightSource, dir = defaultWeightsDir()): string {
  return join(dir, `vgg19-${source}.safetensors`);
}

export async function hashFile(path: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface CachedVgg {
  source: WeightSource;
  weights: VggWeights;
  widths: number[];
  metadata: Record<string, string>;
}

/** Reads and re-validates a cache file (a damaged one names itself and the way to replace it). */
export function readVggCache(path: string, source: WeightSource): CachedVgg {
  let file: ReturnType<typeof readSafetensors>;
  try {
    file = readSafetensors(path);
    if (file.metadata.format !== CACHE_FORMAT || file.metadata.source !== source) {
      throw new Error(`not a ${source} VGG19 cache file (metadata ${JSON.stringify(file.metadata)})`);
    }
    const widths = validateVggWeights(file.tensors, path, (c) => c.name);
    return { source, weights: file.tensors, widths, metadata: file.metadata };
  } catch (err) {
    const why = (err as Error).message.replace(`${path}: `, '');
    throw new Error(`cached weights ${path} are unusable (${why}); delete the file and run \`comi weights fetch vgg19 --source ${source}\` or \`comi weights import FILE\` again`);
  }
}

export interface ImportResult {
  source: WeightSource;
  path: string;
  widths: number[];
  /** The file is the publisher's release (its checksum matches the published one). */
  official: boolean;
  /** The cache already held this very file: nothing was written. */
  unchanged: boolean;
}

/**
 * Converts a downloaded weight file into the cache. An existing cache file from a different origin is kept unless
 * `overwrite`: importing a test or fine-tuned file must not silently replace the official weights.
 */
export async function importVggFile(file: string, opts: { dir?: string; overwrite?: boolean; origin?: string } = {}): Promise<ImportResult> {
  const imported = await readVggWeightFile(file);
  const { source } = imported;
  const release = OFFICIAL_VGG19[source];
  // A cache file copied from another machine keeps the provenance of the release it was converted from.
  const carried = imported.cacheMetadata;
  const sha256 = carried?.originSha256 ?? (await hashFile(file, 'sha256'));
  const official = carried ? carried.official === 'true' : matchesDigest(release, release.algorithm === 'sha256' ? sha256 : await hashFile(file, release.algorithm));
  const dir = opts.dir ?? defaultWeightsDir();
  const path = cachedVggPath(source, dir);
  if (existsSync(path)) {
    const old = readSafetensors(path).metadata;
    if (old.originSha256 === sha256) return { source, path, widths: imported.widths, official, unchanged: true };
    if (!opts.overwrite) {
      throw new Error(`${path} already holds ${source} weights from ${old.origin ?? 'another file'}; pass --overwrite to replace them with ${basename(file)}`);
    }
  }
  mkdirSync(dir, { recursive: true });
  const metadata: Record<string, string> = {
    format: CACHE_FORMAT,
    source,
    preprocessing: PREPROCESSING[source].description,
    widths: imported.widths.join(','),
    origin: opts.origin ?? carried?.origin ?? basename(file),
    originFormat: carried?.originFormat ?? imported.format,
    originSha256: sha256,
    official: String(official),
  };
  const tensors: VggWeights = {};
  for (const c of VGG_CONVS) for (const kind of ['weight', 'bias']) tensors[`${c.name}.${kind}`] = imported.weights[`${c.name}.${kind}`];
  writeSafetensors(path, tensors, metadata);
  return { source, path, widths: imported.widths, official, unchanged: false };
}
