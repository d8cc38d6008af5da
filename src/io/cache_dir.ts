// The per-user cache folder shared by weight files and kernel autotuning.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $COMI_CACHE, else $XDG_CACHE_HOME/comi, else ~/.cache/comi. */
export function comiCacheDir(): string {
  return process.env.COMI_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'comi');
}
