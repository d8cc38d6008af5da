// `comi deconvolve`: Richardson–Lucy deconvolution of images with a known, file or fitted PSF (src/eval/deconvolve.ts),
// the classical baseline to compare the CycleGAN against.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { choice, num, parseFlags, percentilesFlag, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { Progress } from './progress.js';
import { readImage, writeImage } from '../data/image.js';
import { loadDataset } from '../data/dataset.js';
import { checkNamePattern, expandInputs, isDir, planJobs, DEFAULT_NAME_PATTERN, OUTPUT_DTYPES, type Failure, type OutputDtype } from '../correct/files.js';
import type { NormalizationChoice } from '../correct/correct.js';
import { checkOptics, type Optics } from '../synth/psf.js';
import { deconvolveImage, fitRichardsonLucy, gaussianPsf, opticsPsf, readPsf, DEFAULT_ITERATIONS, EXTENDED_ITERATIONS_MAX, type Psf } from '../eval/deconvolve.js';
import { normalizedConventionNote } from '../eval/convention.js';

const FLAGS: FlagSpec = {
  psf: { type: 'string' },
  'psf-sigma': { type: 'string' },
  'psf-optics': { type: 'string' },
  'fit-pairs': { type: 'string' },
  source: { type: 'string' },
  target: { type: 'string' },
  'fit-iterations': { type: 'string' },
  'sigma-range': { type: 'string' },
  iterations: { type: 'string' },
  clip: { type: 'boolean' },
  'filter-epsilon': { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  dtype: { type: 'string' },
  normalization: { type: 'string' },
  percentiles: { type: 'string' },
  overwrite: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const USAGE = 'usage: comi deconvolve (--psf FILE | --psf-sigma PX | --psf-optics NA,WAVELENGTH,INDEX,PIXEL,Z | --fit-pairs DIR --source A --target B) [--out DIR INPUT...] [options]';

const HELP = `${USAGE}

Richardson–Lucy deconvolution (scikit-image 0.19 restoration.richardson_lucy, on the GPU) of out-of-focus images.
INPUT: image files, folders or quoted globs, as in comi correct. Outputs keep each input's size, channels and (by
default) bit depth. Each image is mapped to [0, 1] first (as comi correct: 8-bit /255, others by percentiles) and
mirror-padded by the PSF's size; the mapping is undone on output.

PSF (exactly one):
  --psf FILE             a PSF image (one channel, any size), normalised to sum 1
  --psf-sigma PX         a Gaussian of σ PX pixels, truncated at ±3σ
  --psf-optics NA,WAVELENGTH,INDEX,PIXEL,Z   the widefield defocus PSF of comi synth: numerical aperture,
                         wavelength µm, immersion index, camera pixel µm, defocus µm (e.g. 0.75,0.52,1,0.325,2)
  --fit-pairs DIR        fit a Gaussian's σ and the iteration count on the paired images DIR/A and DIR/B
  --source A, --target B   with --fit-pairs: the out-of-focus and in-focus folders under DIR (the fit
                         maximises the mean PSNR in comi evaluate's normalized convention); without INPUT, it
                         prints the fit and stops
  --fit-iterations LIST  with --fit-pairs: iteration counts to choose from (default ${DEFAULT_ITERATIONS.join(',')}, doubled on up
                         to ${EXTENDED_ITERATIONS_MAX} while the best is the top)
  --sigma-range MIN,MAX  with --fit-pairs: σ search interval in pixels (default 0.5,8, extended in √2 steps
                         up to 32 while the best σ is the top one; a given interval is kept)

Options:
  --out DIR              output folder (created if missing); required with INPUT
  --iterations N         RL iterations (default 20; with --fit-pairs the fitted count)
  --clip                 clip the estimate to [−1, 1] in normalised units (scikit-image's default; off here, as
                         the brightest structures of a percentile-normalised image lie above 1)
  --filter-epsilon E     where the blurred estimate is below E, the ratio is 0 (scikit-image's filter_epsilon)
  --normalization M      auto | 8bit | 16bit-range | percentile (default auto)
  --percentiles LO,HI    for percentile normalisation (default 0.1,99.9)
  --dtype T              same | uint8 | uint16 | float32 (default same)
  --name PATTERN         output file name, as in comi correct (default ${DEFAULT_NAME_PATTERN}; {model} is 'rl')
  --overwrite            replace existing output files
`;

type PsfSource = { kind: 'file'; path: string } | { kind: 'sigma'; sigma: number } | { kind: 'optics'; optics: Optics; z: number }
  | { kind: 'fit'; dir: string; source: string; target: string; iterations?: number[]; sigmaRange?: [number, number] };

export interface DeconvolveCommandOptions {
  psf: PsfSource;
  inputs: string[];
  out?: string;
  iterations?: number;
  clip: boolean;
  filterEpsilon?: number;
  normalization: NormalizationChoice;
  percentiles?: { pLow: number; pHigh: number };
  dtype: OutputDtype;
  name: string;
  overwrite: boolean;
}

function numberList(raw: string, flag: string, n?: number): number[] {
  const v = raw.split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
  if ((n !== undefined && v.length !== n) || !v.every(Number.isFinite)) {
    throw new UsageError(`--${flag} takes ${n ?? 'a list of'} comma-separated numbers, got '${raw}'`);
  }
  return v;
}

function psfSource(values: Record<string, string | boolean | undefined>): PsfSource {
  const given = ['psf', 'psf-sigma', 'psf-optics', 'fit-pairs'].filter((f) => values[f] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(given.length ? `give one PSF source, got ${given.map((f) => `--${f}`).join(' and ')}` : 'no PSF: give --psf FILE, --psf-sigma PX, --psf-optics NA,WAVELENGTH,INDEX,PIXEL,Z or --fit-pairs DIR');
  }
  const fitOnly = ['source', 'target', 'fit-iterations', 'sigma-range'].find((f) => values[f] !== undefined);
  if (given[0] !== 'fit-pairs' && fitOnly) throw new UsageError(`--${fitOnly} applies to --fit-pairs only`);
  if (given[0] === 'psf') return { kind: 'file', path: str(values, 'psf')! };
  if (given[0] === 'psf-sigma') return { kind: 'sigma', sigma: num(values, 'psf-sigma', 0, { min: 0, minExclusive: true, max: 100 }) };
  if (given[0] === 'psf-optics') {
    const [na, wavelength, index, pixelSize, z] = numberList(str(values, 'psf-optics')!, 'psf-optics', 5);
    const optics = { na, wavelength, index, pixelSize };
    try {
      checkOptics(optics);
    } catch (err) {
      throw new UsageError(`--psf-optics: ${(err as Error).message}`);
    }
    return { kind: 'optics', optics, z };
  }
  const source = str(values, 'source');
  const target = str(values, 'target');
  if (!source || !target) throw new UsageError('--fit-pairs DIR needs --source A and --target B: the out-of-focus and in-focus folders under DIR');
  if (values.iterations !== undefined) throw new UsageError('--fit-pairs chooses the iteration count: give the candidates with --fit-iterations instead of --iterations');
  const iterations = values['fit-iterations'] === undefined ? undefined : numberList(str(values, 'fit-iterations')!, 'fit-iterations');
  if (iterations && !iterations.every((n) => Number.isInteger(n) && n >= 1 && n <= 10000)) throw new UsageError(`--fit-iterations takes positive integers, got '${values['fit-iterations']}'`);
  const fit = { kind: 'fit' as const, dir: str(values, 'fit-pairs')!, source, target, ...(iterations ? { iterations: [...new Set(iterations)] } : {}) };
  if (values['sigma-range'] === undefined) return fit;
  const range = numberList(str(values, 'sigma-range')!, 'sigma-range', 2);
  if (!(range[0] > 0 && range[1] > range[0] && range[1] <= 100)) throw new UsageError(`--sigma-range takes MIN,MAX with 0 < MIN < MAX ≤ 100, got '${values['sigma-range']}'`);
  return { ...fit, sigmaRange: [range[0], range[1]] };
}

/** Flags → options; null for --help. Every bad value is a UsageError naming its flag. */
export function parseDeconvolveFlags(argv: string[]): DeconvolveCommandOptions | null {
  const { values, positionals } = parseFlags(argv, FLAGS, true);
  if (values.help) return null;
  const psf = psfSource(values);
  const out = str(values, 'out');
  if (positionals.length > 0 && !out) throw new UsageError('--out DIR is required (the folder to write deconvolved images to)');
  if (positionals.length === 0 && psf.kind !== 'fit') throw new UsageError('no input images given (files, folders or globs after the options)');
  if (positionals.length === 0 && out) throw new UsageError('--out given but no input images (files, folders or globs after the options)');
  const name = str(values, 'name', DEFAULT_NAME_PATTERN)!;
  try {
    checkNamePattern(name);
  } catch (err) {
    throw new UsageError(`--name: ${(err as Error).message}`);
  }
  return {
    psf, out, name, inputs: positionals,
    iterations: values.iterations === undefined ? undefined : num(values, 'iterations', 0, { min: 1, max: 10000, int: true }),
    clip: values.clip === true,
    filterEpsilon: values['filter-epsilon'] === undefined ? undefined : num(values, 'filter-epsilon', 0, { min: 0 }),
    normalization: choice<NormalizationChoice>(values, 'normalization', ['auto', '8bit', '16bit-range', 'percentile'], 'auto'),
    percentiles: percentilesFlag(str(values, 'percentiles')),
    dtype: choice<OutputDtype>(values, 'dtype', OUTPUT_DTYPES, 'same'),
    overwrite: values.overwrite === true,
  };
}

async function resolvePsf(opts: DeconvolveCommandOptions): Promise<{ psf: Psf; iterations: number; what: string }> {
  const p = opts.psf;
  const iterations = opts.iterations ?? 20;
  if (p.kind === 'file') return { psf: await readPsf(p.path), iterations, what: `PSF image ${p.path}` };
  if (p.kind === 'sigma') return { psf: gaussianPsf(p.sigma), iterations, what: `Gaussian PSF σ ${p.sigma} px` };
  if (p.kind === 'optics') {
    const o = p.optics;
    return { psf: opticsPsf(o, p.z), iterations, what: `defocus PSF NA ${o.na}, λ ${o.wavelength} µm, n ${o.index}, pixel ${o.pixelSize} µm, z ${p.z} µm` };
  }
  if (!isDir(p.dir)) throw new UsageError(`--fit-pairs ${p.dir} is not a folder`);
  const ds = await loadDataset({ root: p.dir, layout: 'paired', source: p.source, target: p.target });
  const pairs = await Promise.all(ds.pairs.map(async (q) => ({ source: await readImage(join(p.dir, q.source.file)), target: await readImage(join(p.dir, q.target.file)) })));
  process.stdout.write(`fitting σ in ${p.sigmaRange?.join('–') ?? '0.5–8 (on to 32 while the best is at the top)'} px and iterations ${p.iterations?.join(', ') ?? `${DEFAULT_ITERATIONS.join(', ')} (on to ${EXTENDED_ITERATIONS_MAX} while the best is the top)`} on ${pairs.length} pair(s) of ${p.dir}\n`);
  let progress: Progress | null = null;
  const fit = await fitRichardsonLucy(pairs, {
    iterations: p.iterations, sigmaRange: p.sigmaRange, normalization: opts.normalization, percentiles: opts.percentiles,
    onTrial: (n, total, best) => (progress = (progress ?? new Progress('fit: σ tried', total)).setTotal(total)).update(n, `best σ ${best.sigma.toFixed(2)} px, ${best.iterations} it, ${best.psnr.toFixed(2)} dB`),
  });
  (progress as Progress | null)?.done();
  process.stdout.write(`fitted: σ ${fit.sigma.toFixed(3)} px, ${fit.iterations} iterations, mean PSNR ${fit.psnr.toFixed(2)} dB (${normalizedConventionNote()})\n`
    + `same as: --psf-sigma ${fit.sigma.toFixed(3)} --iterations ${fit.iterations}\n`);
  return { psf: gaussianPsf(fit.sigma), iterations: fit.iterations, what: `fitted Gaussian PSF σ ${fit.sigma.toFixed(3)} px` };
}

export async function deconvolveCommand(argv: string[]): Promise<void> {
  const opts = parseDeconvolveFlags(argv);
  if (!opts) {
    process.stdout.write(HELP);
    return;
  }
  let plan: ReturnType<typeof planJobs> | null = null;
  const failures: Failure[] = [];
  let written = 0;
  if (opts.out) {
    if (existsSync(opts.out) && !isDir(opts.out)) throw new UsageError(`--out ${opts.out} is a file, not a folder`);
    const expanded = expandInputs(opts.inputs);
    plan = planJobs(expanded.files, opts.out, opts.name, opts.dtype, 'rl', opts.overwrite);
    failures.push(...expanded.failures, ...plan.failures);
  }
  const { psf, iterations, what } = await resolvePsf(opts);
  if (plan) {
    process.stdout.write(`${what} (${psf.width}×${psf.height}), ${iterations} iterations${opts.clip ? ', clipped' : ''}; `
      + `${plan.jobs.length} image(s) → ${opts.out}, dtype ${opts.dtype}\n`);
    for (const [i, job] of plan.jobs.entries()) {
      process.stdout.write(`[${i + 1}/${plan.jobs.length}] ${job.input} → ${job.output}\n`);
      try {
        const img = await readImage(job.input);
        const progress = new Progress('  iteration', iterations);
        const out = await deconvolveImage(img, psf, {
          iterations, clip: opts.clip, filterEpsilon: opts.filterEpsilon, normalization: opts.normalization,
          percentiles: opts.percentiles, dtype: opts.dtype, onIteration: (done) => progress.update(done),
        });
        progress.done();
        mkdirSync(dirname(job.output), { recursive: true });
        await writeImage(job.output, out);
        written++;
      } catch (err) {
        failures.push({ file: job.input, message: (err as Error).message });
      }
    }
  }
  for (const f of failures) process.stderr.write(`failed: ${f.file}: ${f.message}\n`);
  if (failures.length) throw new Error(`${failures.length} input(s) failed (listed above); ${written} written`);
  if (plan) process.stdout.write(`deconvolved ${written} image(s) into ${opts.out}\n`);
}
