// Downloads a release, checks the publisher's checksum and converts it into the cache. The raw download lives
// under a temporary name and is removed whatever happens; only a verified, converted file reaches the cache.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cachedVggPath, defaultWeightsDir, importVggFile, type ImportResult } from './cache.js';
import { OFFICIAL_VGG19, matchesDigest, type OfficialRelease, type WeightSource } from './vgg19.js';

export type DownloadProgress = (bytes: number, total: number | null) => void;

const mb = (n: number) => (n / 1e6).toFixed(1);

/** Writes url's body to dest (which must not exist) and checks its digest; on any failure dest is removed. */
export async function download(url: string, dest: string, release: Pick<OfficialRelease, 'algorithm' | 'digest'>, onProgress?: DownloadProgress): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot download ${url} (${cause?.code ?? cause?.message ?? (err as Error).message}); without internet, download it on another machine and run \`comi weights import FILE\``);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`download of ${url} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const total = Number(res.headers.get('content-length')) || null;
  const hash = createHash(release.algorithm);
  let received = 0;
  const fd = openSync(dest, 'wx');
  try {
    try {
      for await (const chunk of res.body) {
        writeSync(fd, chunk);
        hash.update(chunk);
        received += chunk.length;
        onProgress?.(received, total);
      }
    } catch (err) {
      const got = total ? `${mb(received)} of ${mb(total)} MB` : `${mb(received)} MB`;
      throw new Error(`download of ${url} was cut off after ${got} (${(err as Error).message}); nothing was saved, run the command again`);
    }
    if (total !== null && received !== total) {
      throw new Error(`download of ${url} was cut off after ${mb(received)} of ${mb(total)} MB; nothing was saved, run the command again`);
    }
    const hex = hash.digest('hex');
    if (!matchesDigest(release, hex)) {
      throw new Error(`${url}: ${release.algorithm} ${hex} does not match the published ${release.digest} (damaged or wrong file); nothing was saved`);
    }
  } catch (err) {
    closeSync(fd);
    rmSync(dest, { force: true });
    throw err;
  }
  closeSync(fd);
}

export interface FetchOptions {
  dir?: string;
  /** Another address for the same file (a mirror); the checksum stays the publisher's unless `release` is given. */
  url?: string;
  release?: Pick<OfficialRelease, 'algorithm' | 'digest'>;
  /** Download even when the cache already holds this source. */
  force?: boolean;
  onProgress?: DownloadProgress;
}

export type FetchResult = { reused: true; path: string } | (ImportResult & { reused: false });

/** Downloads, verifies and caches VGG19 weights; an existing cache file is reused unless `force`. */
export async function fetchVgg(source: WeightSource, opts: FetchOptions = {}): Promise<FetchResult> {
  const official = OFFICIAL_VGG19[source];
  const dir = opts.dir ?? defaultWeightsDir();
  const path = cachedVggPath(source, dir);
  if (existsSync(path) && !opts.force) return { reused: true, path };
  mkdirSync(dir, { recursive: true });
  const part = join(dir, `.${official.file}.${process.pid}.download`);
  try {
    await download(opts.url ?? official.url, part, opts.release ?? official, opts.onProgress);
    return { ...(await importVggFile(part, { dir, overwrite: true, origin: official.file })), reused: false };
  } finally {
    rmSync(part, { force: true });
  }
}
