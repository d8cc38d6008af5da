// Batches split over many processes and machines: which inputs a shard owns, and the append-only manifest that
// records what each shard has done. Every process of a batch sees the same inputs and decides the same split;
// a shard writes only its own outputs and its own manifest file, so N shards on a shared (network) folder never
// write the same file, and a rerun skips what its manifest already records.
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Shard {
  /** 0-based, < count (Slurm's SLURM_ARRAY_TASK_ID from --array=0-(N-1), Kubernetes' JOB_COMPLETION_INDEX). */
  index: number;
  count: number;
}

/** 'K/N' → shard K of N; throws a one-line message otherwise. */
export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && index < count)) throw new Error(`shard must be K/N with 0 ≤ K < N (0-based), got '${s}'`);
  return { index, count };
}

/** The shard that owns an input: a hash of its key (its path relative to its root), so adding files moves none. */
export function shardOf(key: string, count: number): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % count;
}

export const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** One manifest line: what happened to one input. */
export interface ManifestEntry {
  /** The input's key (path relative to its root). */
  input: string;
  /** The input's content. */
  sha256: string;
  /** 'corrected': output written; 'sharp': focus score at or above --only-blurred's threshold, not corrected;
   * 'existing': the output was already there (--skip-existing). */
  action: 'corrected' | 'sharp' | 'existing';
  /** Output path relative to the output folder, and its content's hash; null when nothing was written. */
  output: string | null;
  outputSha256: string | null;
  model: string;
  /** Focus score (measure named in `measure`); null when not measured. */
  focus: number | null;
  measure: string | null;
  time: string;
  host: string;
}

export const manifestFile = (dir: string, s: Shard): string =>
  join(dir, `shard-${String(s.index).padStart(4, '0')}-of-${String(s.count).padStart(4, '0')}.jsonl`);

/**
 * A shard's manifest: the entries already recorded, and append() for new ones. A line cut short by a crash is
 * ignored, and cut off before the next append, so its input is done again.
 */
export class Manifest {
  readonly entries: ManifestEntry[];
  private validBytes: number;

  constructor(readonly path: string) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    this.validBytes = Buffer.byteLength(complete);
    this.entries = parseLines(complete, path);
  }

  /** One write of one line, then fsync: a line is on disk before the next input starts. */
  append(e: ManifestEntry): void {
    mkdirSync(dirname(this.path), { recursive: true });
    if (existsSync(this.path) && statSync(this.path).size > this.validBytes) truncateSync(this.path, this.validBytes);
    const line = `${JSON.stringify(e)}\n`;
    const fd = openSync(this.path, 'a');
    try {
      appendFileSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.validBytes += Buffer.byteLength(line);
    this.entries.push(e);
  }
}

function parseLines(text: string, path: string): ManifestEntry[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as ManifestEntry;
    } catch {
      throw new Error(`${path}: line ${i + 1} is not JSON`);
    }
  });
}

/** Every entry of every *.jsonl manifest in dir, with the file it came from. */
export function readManifests(dir: string): Array<ManifestEntry & { file: string }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`manifest folder ${dir} does not exist`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  if (files.length === 0) throw new Error(`manifest folder ${dir} has no *.jsonl manifests`);
  return files.flatMap((f) => parseLines(readFileSync(join(dir, f), 'utf8'), join(dir, f)).map((e) => ({ ...e, file: f })));
}

export interface CoverageReport {
  inputs: number;
  lines: number;
  missing: string[];
  duplicated: string[];
  unknown: string[];
  /** Outputs that are missing or whose content differs from the recorded hash. */
  badOutputs: string[];
}

/**
 * Checks that manifests cover every input key exactly once, name no other input, and (with outDir) that every
 * recorded output exists with the recorded content.
 */
export function checkCoverage(keys: readonly string[], entries: readonly ManifestEntry[], outDir?: string): CoverageReport {
  const count = new Map<string, number>();
  for (const e of entries) count.set(e.input, (count.get(e.input) ?? 0) + 1);
  const known = new Set(keys);
  const badOutputs: string[] = [];
  if (outDir !== undefined) {
    for (const e of entries) {
      if (e.output === null) continue;
      const p = join(outDir, e.output);
      if (!existsSync(p) || (e.outputSha256 !== null && sha256File(p) !== e.outputSha256)) badOutputs.push(e.output);
    }
  }
  return {
    inputs: keys.length,
    lines: entries.length,
    missing: keys.filter((k) => !count.has(k)),
    duplicated: [...count].filter(([k, n]) => n > 1 && known.has(k)).map(([k]) => k),
    unknown: [...count.keys()].filter((k) => !known.has(k)),
    badOutputs,
  };
}
