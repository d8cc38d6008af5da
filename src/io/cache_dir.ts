// The per-user cache folder shared by weight files and kernel autotuning.
import { homedir } from 'node:os';
import { join } from 'node:path';

let memo: { env: string; dir: string } | null = null;

/** $COMI_CACHE, else $XDG_CACHE_HOME/comi, else ~/.cache/comi. (Asked on every autotuned dispatch: worked out again
 * only when those variables change.) */
export function comiCacheDir(): string {
  const { COMI_CACHE, XDG_CACHE_HOME } = process.env;
  const env = `${COMI_CACHE ?? ''}\0${XDG_CACHE_HOME ?? ''}`;
  if (memo?.env !== env) memo = { env, dir: COMI_CACHE || join(XDG_CACHE_HOME || join(homedir(), '.cache'), 'comi') };
  return memo.dir;
}
