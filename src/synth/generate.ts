// Synthetic training sets in the layouts the trainer reads (src/data/dataset.ts):
//   paired: DIR/blurred/NAME.png (defocused) and DIR/clear/NAME.png (in focus), matching names;
//   zstack: DIR/Z001 … DIR/Zkkk/NAME.png, plane k at z = (k − inFocus)·spacing, one plane in focus;
// plus DIR/synth.json, the manifest (every parameter, the seed, each image's defocus). Field i depends only on
// (seed, i, the options), so a set is reproducible byte for byte.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeImage, type Image } from '../data/image.js';
import { Rng } from '../data/rng.js';
import { hash32 } from '../graph/random.js';
import { writeFileAtomic } from '../io/atomic.js';
import { checkOptics, defocusPsf, psfSize, type Kernel, type Optics } from './psf.js';
import { blurSpecimen, cameraGain, checkCamera, expose, type Camera } from './render.js';
import { cropPlanes } from '../data/image.js';
import { makeSpecimen, STRUCTURES, type SpecimenKind, type Structure } from './specimens.js';

export type SynthLayout = 'paired' | 'zstack';

export interface SynthOptions {
  kind: SpecimenKind;
  layout: SynthLayout;
  /** Number of fields (paired: pairs; zstack: stacks). */
  count: number;
  /** Square image side, pixels. */
  size: number;
  /** zstack: number of planes, their spacing in µm and the 1-based index of the in-focus plane. */
  planes: number;
  spacing: number;
  inFocus: number;
  /** paired: each blurred image's |z| is drawn uniformly from [min, max] µm, its sign at random. */
  defocus: [number, number];
  na: number;
  index: number;
  pixelSize: number;
  /** One per channel: fluorescence [emission]; bright-field [red, green, blue]. µm. */
  wavelengths: number[];
  camera: Camera;
  seed: number;
  /** Fluorescence: the structures drawn. */
  structures: Structure[];
  /** paired: the in-focus image is the camera's expected value, without shot or read noise (a clean target to
   * train on; the blurred image keeps its noise). Absent: both are noisy, as real pairs are. */
  cleanTarget?: boolean;
}

export const SYNTH_DEFAULTS: Record<SpecimenKind, SynthOptions> = {
  fluorescence: {
    kind: 'fluorescence', layout: 'paired', count: 16, size: 256, planes: 7, spacing: 0.6, inFocus: 4, defocus: [1, 3],
    na: 0.8, index: 1.0, pixelSize: 0.16, wavelengths: [0.52],
    camera: { photons: 2000, readNoise: 2, offset: 5, bitDepth: 8 }, seed: 0, structures: [...STRUCTURES],
  },
  brightfield: {
    kind: 'brightfield', layout: 'paired', count: 16, size: 256, planes: 7, spacing: 0.6, inFocus: 4, defocus: [1, 3],
    na: 0.75, index: 1.0, pixelSize: 0.16, wavelengths: [0.61, 0.53, 0.47],
    camera: { photons: 5000, readNoise: 2, offset: 5, bitDepth: 8 }, seed: 0, structures: [],
  },
};

export interface SynthPlane { folder: string; z: number }
export interface SynthField { name: string; planes: Array<SynthPlane & { image: Image }> }

export interface SynthManifest {
  generator: 'comi synth';
  version: 1;
  kind: SpecimenKind;
  layout: SynthLayout;
  seed: number;
  count: number;
  size: number;
  optics: { na: number; index: number; pixelSize: number; wavelengths: number[]; psf: string };
  camera: Camera & { gain: number };
  structures?: Structure[];
  /** How to load the set: paired → source/target folders; zstack → the in-focus folder among `folders`. */
  dataset: { layout: SynthLayout; source?: string; target?: string; inFocus?: string };
  folders: string[];
  zstack?: { planes: SynthPlane[]; spacing: number; inFocus: number };
  paired?: { defocusRange: [number, number]; cleanTarget: boolean };
  images: Array<{ name: string; defocus?: number }>;
}

export const MANIFEST = 'synth.json';

const planeFolder = (k: number) => `Z${String(k).padStart(3, '0')}`;

export function checkSynthOptions(o: SynthOptions): void {
  const int = (v: number, min: number, what: string) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`synth: ${what} must be an integer ≥ ${min}, got ${v}`);
  };
  int(o.count, 1, 'count');
  int(o.size, 8, 'size');
  checkOptics({ na: o.na, index: o.index, pixelSize: o.pixelSize, wavelength: o.wavelengths[0] });
  const channels = o.kind === 'brightfield' ? 3 : 1;
  if (o.wavelengths.length !== channels || !o.wavelengths.every((l) => Number.isFinite(l) && l > 0)) {
    throw new Error(`synth: ${o.kind} needs ${channels} positive wavelength(s) in µm, got [${o.wavelengths.join(', ')}]`);
  }
  checkCamera(o.camera);
  if (o.layout === 'zstack') {
    int(o.planes, 2, 'planes');
    int(o.inFocus, 1, 'inFocus');
    if (o.inFocus > o.planes) throw new Error(`synth: inFocus must be a plane index 1…${o.planes}, got ${o.inFocus}`);
    if (!(Number.isFinite(o.spacing) && o.spacing > 0)) throw new Error(`synth: spacing must be a positive number of µm, got ${o.spacing}`);
  } else if (o.layout === 'paired') {
    const [lo, hi] = o.defocus;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo >= 0 && hi >= lo && hi > 0)) {
      throw new Error(`synth: defocus range must satisfy 0 ≤ min ≤ max, max > 0 (µm), got [${lo}, ${hi}]`);
    }
  } else throw new Error(`synth: layout must be paired or zstack, got '${o.layout}'`);
  if (o.cleanTarget && o.layout !== 'paired') throw new Error('synth: a clean target is for the paired layout (its clear folder)');
  if (o.kind === 'fluorescence') {
    if (o.structures.length === 0) throw new Error('synth: fluorescence needs at least one structure');
    const bad = o.structures.find((s) => !STRUCTURES.includes(s));
    if (bad) throw new Error(`synth: unknown structure '${bad}' (known: ${STRUCTURES.join(', ')})`);
  } else if (o.kind !== 'brightfield') throw new Error(`synth: kind must be fluorescence or brightfield, got '${o.kind}'`);
}

/** The largest |z| a set uses, µm (sets the PSF size and the margin drawn around each field). */
export function maxDefocus(o: SynthOptions): number {
  return o.layout === 'zstack' ? Math.max(o.inFocus - 1, o.planes - o.inFocus) * o.spacing : o.defocus[1];
}

const opticsFor = (o: SynthOptions, wavelength: number): Optics => ({ na: o.na, index: o.index, pixelSize: o.pixelSize, wavelength });

/** Renders field i (0-based) in memory: its planes in folder order. psfCache reuses kernels across fields. */
export function renderField(o: SynthOptions, i: number, psfCache: Map<string, Kernel> = new Map()): SynthField {
  const rng = new Rng(hash32(i, o.seed ^ 0x73796e74)); // salted: hash32(0, 0) = 0 would start seed 0 at a zero draw
  const planes: SynthPlane[] = [];
  if (o.layout === 'paired') {
    const z = rng.uniform(o.defocus[0], o.defocus[1]) * (rng.next() < 0.5 ? -1 : 1);
    planes.push({ folder: 'blurred', z }, { folder: 'clear', z: 0 });
  } else {
    for (let k = 1; k <= o.planes; k++) planes.push({ folder: planeFolder(k), z: (k - o.inFocus) * o.spacing });
  }
  const specimenSeed = rng.int(0x7fffffff);
  const psf = (wavelength: number, z: number) => {
    const key = `${wavelength}:${z}`;
    let k = psfCache.get(key);
    if (!k) psfCache.set(key, (k = defocusPsf(opticsFor(o, wavelength), z)));
    return k;
  };
  // Draw a margin as wide as the largest PSF radius around the field, so light from outside it blurs in.
  const margin = Math.max(...planes.flatMap((p) => o.wavelengths.map((l) => (psf(l, p.z).size - 1) / 2)));
  const side = o.size + 2 * margin;
  const specimen = makeSpecimen(o.kind, { width: side, height: side, pixelSize: o.pixelSize, seed: specimenSeed, structures: o.structures });
  const channels = specimen.channels;
  return {
    name: `field_${String(i + 1).padStart(Math.max(4, String(o.count).length), '0')}`,
    planes: planes.map((p, k) => {
      const blurred = blurSpecimen(specimen, o.wavelengths.map((l) => psf(l, p.z)));
      const window = cropPlanes(blurred, channels, side, side, margin, margin, o.size, o.size);
      const noise = !(o.cleanTarget && p.folder === 'clear');
      const image = expose(window, channels, o.size, o.size, o.camera, new Rng(hash32(k, specimenSeed ^ 0x6e6f6973)), noise);
      return { ...p, image };
    }),
  };
}

/**
 * Writes a synthetic set under `out` and returns its manifest. `out` must be missing or empty unless overwrite is
 * set; with overwrite, the folders a previous synth.json there lists are removed first (nothing else is touched).
 */
export async function generateSynth(
  out: string,
  o: SynthOptions,
  opts: { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<SynthManifest> {
  checkSynthOptions(o);
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new Error(`${out} is a file, not a folder`);
    const entries = readdirSync(out);
    if (entries.length > 0 && !opts.overwrite) throw new Error(`${out} is not empty (${entries.length} entries); choose another folder or overwrite`);
    if (entries.includes(MANIFEST)) removePrevious(out);
  }
  const folders = o.layout === 'paired' ? ['blurred', 'clear'] : Array.from({ length: o.planes }, (_, k) => planeFolder(k + 1));
  for (const f of folders) mkdirSync(join(out, f), { recursive: true });

  const psfCache = new Map<string, Kernel>();
  const images: SynthManifest['images'] = [];
  for (let i = 0; i < o.count; i++) {
    const field = renderField(o, i, psfCache);
    for (const p of field.planes) await writeImage(join(out, p.folder, `${field.name}.png`), p.image);
    images.push(o.layout === 'paired' ? { name: `${field.name}.png`, defocus: field.planes[0].z } : { name: `${field.name}.png` });
    opts.onProgress?.(i + 1, o.count);
  }

  const manifest: SynthManifest = {
    generator: 'comi synth',
    version: 1,
    kind: o.kind,
    layout: o.layout,
    seed: o.seed,
    count: o.count,
    size: o.size,
    optics: {
      na: o.na, index: o.index, pixelSize: o.pixelSize, wavelengths: o.wavelengths,
      psf: 'scalar diffraction, aberration-free circular pupil with defocus phase 2π·z·sqrt((n/λ)² − k²), intensity integrated over each pixel',
    },
    camera: { ...o.camera, gain: cameraGain(o.camera) },
    ...(o.kind === 'fluorescence' ? { structures: o.structures } : {}),
    dataset: o.layout === 'paired' ? { layout: 'paired', source: 'blurred', target: 'clear' } : { layout: 'zstack', inFocus: planeFolder(o.inFocus) },
    folders,
    ...(o.layout === 'zstack'
      ? { zstack: { planes: folders.map((f, k) => ({ folder: f, z: (k + 1 - o.inFocus) * o.spacing })), spacing: o.spacing, inFocus: o.inFocus } }
      : { paired: { defocusRange: o.defocus, cleanTarget: o.cleanTarget === true } }),
    images,
  };
  writeFileAtomic(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function removePrevious(out: string): void {
  let previous: Partial<SynthManifest>;
  try {
    previous = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the previous manifest ${join(out, MANIFEST)}: ${(err as Error).message}`);
  }
  for (const f of previous.folders ?? []) {
    if (typeof f !== 'string' || f.includes('/') || f.includes('\\') || f === '..' || f === '.') {
      throw new Error(`${join(out, MANIFEST)} lists an unexpected folder '${String(f)}'; remove the old set by hand`);
    }
    rmSync(join(out, f), { recursive: true, force: true });
  }
  rmSync(join(out, MANIFEST), { force: true });
}
