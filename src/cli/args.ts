// Flag parsing on node:util.parseArgs with typed, validated accessors that throw UsageError.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';
import { TTA_COUNTS, type TtaCount } from '../correct/tta.js';
import type { DType } from '../graph/tensor.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** `--tile -4` as `--tile=-4`: parseArgs takes a value that starts with '-' for an option and calls it ambiguous,
 * where the user gave a (bad) number that the flag's own check should name. */
function joinNegativeValues(argv: string[], options: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].startsWith('--') ? options[argv[i].slice(2)] : undefined;
    if (flag?.type === 'string' && /^-(\d|\.\d|inf)/i.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export function parseFlags(argv: string[], options: FlagSpec, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    // parseArgs messages carry a code prefix in some versions and some span lines: keep the one-line contract.
    throw new UsageError((err as Error).message.replace(/^TypeError \[\w+\]: /, '').replace(/\s*\n\s*/g, ' '));
  }
}

export function num(values: Parsed['values'], flag: string, fallback: number, check?: { min?: number; max?: number; int?: boolean; minExclusive?: boolean }): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  const bad = (why: string) => new UsageError(`--${flag} ${why}, got '${raw}'`);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v)) throw bad('must be a number');
  if (check?.int && !Number.isInteger(v)) throw bad('must be an integer');
  if (check?.min !== undefined && (check.minExclusive ? v <= check.min : v < check.min)) {
    throw bad(`must be ${check.minExclusive ? '>' : '≥'} ${check.min}`);
  }
  if (check?.max !== undefined && v > check.max) throw bad(`must be ≤ ${check.max}`);
  return v;
}

export function choice<T extends string>(values: Parsed['values'], flag: string, allowed: readonly T[], fallback: T): T {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got '${raw}'`);
  return raw as T;
}

export function str(values: Parsed['values'], flag: string, fallback?: string): string | undefined {
  const raw = values[flag];
  return typeof raw === 'string' ? raw : fallback;
}

/** `--percentiles LOW,HIGH` for percentile normalisation (train and correct share the same bounds). */
export function percentilesFlag(raw: string | undefined): { pLow: number; pHigh: number } | undefined {
  if (raw === undefined) return undefined;
  const v = raw.split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (v.length !== 2 || !v.every(Number.isFinite) || !(v[0] >= 0 && v[0] < v[1] && v[1] <= 100)) {
    throw new UsageError(`--percentiles takes LOW,HIGH with 0 ≤ LOW < HIGH ≤ 100, got '${raw}'`);
  }
  return { pLow: v[0], pHigh: v[1] };
}

/** `--precision f32|f16` (correct, evaluate): storage of the maps between layers; f16 only with --stats image. */
export function precisionFlag(values: Parsed['values'], stats: string | undefined): DType {
  const precision = choice(values, 'precision', ['f32', 'f16'] as const, 'f32');
  if (precision === 'f16' && stats === 'tile') throw new UsageError('--precision f16 is not supported with --stats tile (only the layer-by-layer --stats image keeps maps)');
  return precision;
}

/** `--map-memory MIB` (correct, evaluate): GPU bytes for the maps kept between layers, with whole-image statistics. */
export function mapMemoryFlag(values: Parsed['values'], stats: string | undefined): number | undefined {
  if (values['map-memory'] === undefined) return undefined;
  const mib = num(values, 'map-memory', 0, { min: 1, int: true });
  if (stats === 'tile') throw new UsageError('--map-memory applies to the maps kept between layers with --stats image');
  return mib * 2 ** 20;
}

/** `--tta N` (correct, evaluate, compare): how many symmetries of the square the correction averages. */
export function ttaFlag(values: Parsed['values']): TtaCount {
  return Number(choice(values, 'tta', TTA_COUNTS.map(String), '1')) as TtaCount;
}
