// `comi synth`: writes a synthetic defocus training set (physically based PSF, procedural specimens, camera noise).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { choice, num, parseFlags, str, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import { Progress } from './progress.js';
import { generateSynth, maxDefocus, SYNTH_DEFAULTS, type SynthLayout, type SynthOptions } from '../synth/generate.js';
import { psfSize } from '../synth/psf.js';
import { STRUCTURES, type SpecimenKind, type Structure } from '../synth/specimens.js';

const FLAGS: FlagSpec = {
  out: { type: 'string' },
  kind: { type: 'string' },
  layout: { type: 'string' },
  count: { type: 'string' },
  size: { type: 'string' },
  planes: { type: 'string' },
  spacing: { type: 'string' },
  'in-focus': { type: 'string' },
  defocus: { type: 'string' },
  na: { type: 'string' },
  wavelength: { type: 'string' },
  index: { type: 'string' },
  'pixel-size': { type: 'string' },
  'bit-depth': { type: 'string' },
  photons: { type: 'string' },
  'read-noise': { type: 'string' },
  offset: { type: 'string' },
  seed: { type: 'string' },
  structures: { type: 'string' },
  'clean-target': { type: 'boolean' },
  overwrite: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const fmt = (v: number[]) => v.join(',');
const F = SYNTH_DEFAULTS.fluorescence;
const B = SYNTH_DEFAULTS.brightfield;
const HELP = `usage: comi synth --out DIR [options]

Writes synthetic out-of-focus / in-focus training images (scalar-diffraction defocus PSF, procedural specimens,
Poisson–Gaussian camera noise) and DIR/synth.json with every parameter. Lengths in µm.

  --out DIR             output folder (must be empty unless --overwrite)
  --kind K              fluorescence | brightfield (default fluorescence)
  --layout L            paired: DIR/blurred + DIR/clear; zstack: DIR/Z001 … (default paired)
  --count N             fields to render (default ${F.count})
  --size PX             square image side (default ${F.size})
  --defocus Z|MIN:MAX   paired: |defocus| of each blurred image, drawn uniformly (default ${F.defocus.join(':')})
  --planes K            zstack: number of planes (default ${F.planes})
  --spacing UM          zstack: plane spacing (default ${F.spacing})
  --in-focus INDEX      zstack: 1-based in-focus plane (default the middle one)
  --na NA               numerical aperture (default ${F.na} fluorescence, ${B.na} brightfield)
  --wavelength UM       emission wavelength; brightfield: R,G,B (default ${fmt(F.wavelengths)} / ${fmt(B.wavelengths)})
  --index N             immersion refractive index (default ${F.index})
  --pixel-size UM       camera pixel in the specimen plane (default ${F.pixelSize})
  --bit-depth 8|16      PNG bit depth (default ${F.camera.bitDepth})
  --photons N           photoelectrons at intensity 1 (default ${F.camera.photons} fluorescence, ${B.camera.photons} brightfield)
  --read-noise E        read noise, electrons RMS (default ${F.camera.readNoise})
  --offset ADU          camera dark level (default ${F.camera.offset} at 8-bit, 100 at 16-bit)
  --clean-target        paired: the in-focus image without shot or read noise (its expected value), a clean target to
                        train on; leave it off for held-out sets, whose truth is then as noisy as a real one
  --structures LIST     fluorescence: any of ${STRUCTURES.join(',')} (default all)
  --seed N              random seed (default ${F.seed})
  --overwrite           write into a non-empty DIR, replacing a previous synth set there
`;

/** Parses and validates the flags into generator options (every bad value is a UsageError naming its flag). */
export function parseSynthFlags(argv: string[]): { out: string; overwrite: boolean; options: SynthOptions } | null {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) return null;
  const out = str(values, 'out');
  if (!out) throw new UsageError('--out DIR is required (the folder to write the synthetic set to)');
  const kind = choice<SpecimenKind>(values, 'kind', ['fluorescence', 'brightfield'], 'fluorescence');
  const layout = choice<SynthLayout>(values, 'layout', ['paired', 'zstack'], 'paired');
  const d = SYNTH_DEFAULTS[kind];

  const only = layout === 'paired' ? ['planes', 'spacing', 'in-focus'] : ['defocus', 'clean-target'];
  for (const f of only) if (values[f] !== undefined) throw new UsageError(`--${f} applies to --layout ${layout === 'paired' ? 'zstack' : 'paired'} only`);
  if (kind === 'brightfield' && values.structures !== undefined) throw new UsageError('--structures applies to --kind fluorescence only');

  const count = num(values, 'count', d.count, { min: 1, int: true });
  const size = num(values, 'size', d.size, { min: 16, max: 8192, int: true });
  const planes = num(values, 'planes', d.planes, { min: 2, max: 999, int: true });
  const inFocus = num(values, 'in-focus', values.planes !== undefined ? Math.ceil(planes / 2) : d.inFocus, { min: 1, max: planes, int: true });
  const spacing = num(values, 'spacing', d.spacing, { min: 0, minExclusive: true });
  const defocus = parseDefocus(str(values, 'defocus'), d.defocus);
  const na = num(values, 'na', d.na, { min: 0, minExclusive: true });
  const index = num(values, 'index', d.index, { min: 1 });
  if (na >= index) throw new UsageError(`--na must be below --index (the immersion medium's refractive index), got NA ${na} ≥ n ${index}`);
  const pixelSize = num(values, 'pixel-size', d.pixelSize, { min: 0, minExclusive: true, max: 10 });
  const wavelengths = parseWavelengths(str(values, 'wavelength'), d.wavelengths, kind);
  const bitDepth = Number(choice(values, 'bit-depth', ['8', '16'], String(d.camera.bitDepth) as '8' | '16')) as 8 | 16;
  const photons = num(values, 'photons', d.camera.photons, { min: 0, minExclusive: true });
  const readNoise = num(values, 'read-noise', d.camera.readNoise, { min: 0 });
  const full = bitDepth === 8 ? 255 : 65535;
  const offset = num(values, 'offset', bitDepth === 8 ? d.camera.offset : 100, { min: 0, max: Math.floor(0.5 * full) - 1 });
  const seed = num(values, 'seed', d.seed, { min: 0, max: 0xffffffff, int: true });
  const structures = parseStructures(str(values, 'structures'), d.structures);

  const options: SynthOptions = {
    kind, layout, count, size, planes, spacing, inFocus, defocus, na, index, pixelSize, wavelengths,
    camera: { photons, readNoise, offset, bitDepth }, seed, structures,
    ...(values['clean-target'] === true ? { cleanTarget: true } : {}),
  };
  // A PSF wider than this would need FFT grids of millions of points per plane.
  const zmax = maxDefocus(options);
  const widest = Math.max(...wavelengths.map((wavelength) => psfSize({ na, index, pixelSize, wavelength }, zmax)));
  if (widest > 1025) {
    const what = layout === 'paired' ? '--defocus' : '--planes × --spacing';
    throw new UsageError(`${what}: a defocus of ${zmax} µm blurs over ${widest} pixels at --pixel-size ${pixelSize} (limit 1025); use less defocus or larger pixels`);
  }
  return { out, overwrite: values.overwrite === true, options };
}

function parseDefocus(raw: string | undefined, fallback: [number, number]): [number, number] {
  if (raw === undefined) return fallback;
  const parts = raw.split(':');
  const v = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (parts.length > 2 || v.some((x) => !Number.isFinite(x))) throw new UsageError(`--defocus must be a number of µm or MIN:MAX, got '${raw}'`);
  const [lo, hi] = v.length === 1 ? [v[0], v[0]] : v;
  if (lo < 0 || hi < 0) throw new UsageError(`--defocus takes |z| in µm (the sign is drawn at random), got '${raw}'`);
  if (hi < lo) throw new UsageError(`--defocus MIN:MAX needs MIN ≤ MAX, got '${raw}'`);
  if (hi === 0) throw new UsageError(`--defocus must be above 0 µm, got '${raw}'`);
  return [lo, hi];
}

function parseWavelengths(raw: string | undefined, fallback: number[], kind: SpecimenKind): number[] {
  if (raw === undefined) return [...fallback];
  const v = raw.split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
  const want = kind === 'brightfield' ? 3 : 1;
  if (v.length !== want || v.some((x) => !Number.isFinite(x))) {
    throw new UsageError(kind === 'brightfield'
      ? `--wavelength for brightfield takes three µm values R,G,B (e.g. 0.61,0.53,0.47), got '${raw}'`
      : `--wavelength must be one number of µm (e.g. 0.52), got '${raw}'`);
  }
  if (v.some((x) => x <= 0 || x > 2)) throw new UsageError(`--wavelength is in µm and must lie in (0, 2] (e.g. 0.52 for 520 nm), got '${raw}'`);
  return v;
}

function parseStructures(raw: string | undefined, fallback: Structure[]): Structure[] {
  if (raw === undefined) return [...fallback];
  const list = raw.split(',').map((s) => s.trim());
  const bad = list.find((s) => !STRUCTURES.includes(s as Structure));
  if (bad !== undefined) throw new UsageError(`--structures takes a comma list of ${STRUCTURES.join(', ')}, got '${bad}'`);
  return [...new Set(list as Structure[])];
}

export async function synthCommand(argv: string[]): Promise<void> {
  const parsed = parseSynthFlags(argv);
  if (!parsed) {
    process.stdout.write(HELP);
    return;
  }
  const { out, overwrite, options } = parsed;
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a file, not a folder`);
    if (readdirSync(out).length > 0 && !overwrite) {
      throw new UsageError(`--out ${out} is not empty; choose an empty folder or pass --overwrite to replace a previous synth set there`);
    }
  }
  const progress = new Progress('synth', options.count);
  const manifest = await generateSynth(out, options, { overwrite, onProgress: (done) => progress.update(done) });
  progress.done();
  const where = manifest.layout === 'paired' ? 'blurred/ and clear/' : `${manifest.folders[0]} … ${manifest.folders.at(-1)} (in focus: ${manifest.dataset.inFocus})`;
  process.stdout.write(`wrote ${manifest.count} ${manifest.kind} ${manifest.layout === 'paired' ? 'pairs' : 'stacks'} to ${out}: ${where}, manifest synth.json\n`);
}
