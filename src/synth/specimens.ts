// Procedural ground-truth specimens, seeded and reproducible, drawn at physical scale (µm → pixels).
// Fluorescence: emitter density (1 channel, dark background, peak 1) of nuclei, actin-like filaments and
// mitochondria-like punctate networks. Bright-field: RGB transmittance (light background ≈ 0.9) of Giemsa-stained
// Leishmania-like promastigotes (ovoid body, nucleus, kinetoplast, flagellum) by Beer–Lambert absorption.
import { hash32 } from '../graph/random.js';
import { Rng } from '../data/rng.js';
import { gaussian } from './render.js';

export type SpecimenKind = 'fluorescence' | 'brightfield';
export type Structure = 'nuclei' | 'actin' | 'mitochondria';
export const STRUCTURES: readonly Structure[] = ['nuclei', 'actin', 'mitochondria'];

/** Float32 ground truth, planar C×H×W. */
export interface Specimen {
  kind: SpecimenKind;
  width: number;
  height: number;
  channels: 1 | 3;
  planes: Float32Array;
}

export interface SpecimenOptions {
  width: number;
  height: number;
  /** µm per pixel: sets the size of every structure. */
  pixelSize: number;
  seed: number;
  /** Fluorescence only: which structures to draw (default all). */
  structures?: readonly Structure[];
}

export function makeSpecimen(kind: SpecimenKind, opts: SpecimenOptions): Specimen {
  const { width, height, pixelSize, seed } = opts;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`makeSpecimen: width and height must be positive integers, got ${width}×${height}`);
  }
  if (!(pixelSize > 0)) throw new Error(`makeSpecimen: pixelSize must be a positive number of µm, got ${pixelSize}`);
  if (kind === 'fluorescence') return fluorescence(opts);
  if (kind === 'brightfield') return brightfield(opts);
  throw new Error(`makeSpecimen: kind must be fluorescence or brightfield, got '${kind}'`);
}

// ---- noise and drawing primitives --------------------------------------------------------------------------------

/** Smooth value noise in [0, 1] on an integer lattice (period 65536), smoothstep-interpolated. */
function valueNoise(x: number, y: number, seed: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const at = (i: number, j: number) => hash32(((i & 0xffff) | ((j & 0xffff) << 16)) >>> 0, seed) / 4294967296;
  const a = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * sx;
  const b = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * sx;
  return a + (b - a) * sy;
}

/** Fractal sum of `octaves` value-noise layers, feature size `scale` pixels, in [0, 1]. */
function fbm(x: number, y: number, scale: number, octaves: number, seed: number): number {
  let sum = 0;
  let amp = 1;
  let norm = 0;
  let f = 1 / scale;
  for (let o = 0; o < octaves; o++) {
    sum += amp * valueNoise(x * f, y * f, hash32(o, seed));
    norm += amp;
    amp *= 0.5;
    f *= 2;
  }
  return sum / norm;
}

/** Adds v at a sub-pixel point, shared bilinearly among its four pixels (antialiased thin lines and dots). */
function splat(plane: Float32Array, w: number, h: number, x: number, y: number, v: number): void {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const put = (i: number, j: number, f: number) => {
    if (i >= 0 && j >= 0 && i < w && j < h) plane[j * w + i] += v * f;
  };
  put(x0, y0, (1 - fx) * (1 - fy));
  put(x0 + 1, y0, fx * (1 - fy));
  put(x0, y0 + 1, (1 - fx) * fy);
  put(x0 + 1, y0 + 1, fx * fy);
}

/** Splats a round blob of radius r pixels (soft edge) with peak v. */
function blob(plane: Float32Array, w: number, h: number, cx: number, cy: number, r: number, v: number): void {
  const R = Math.ceil(r + 2);
  for (let j = Math.max(0, Math.floor(cy) - R); j <= Math.min(h - 1, Math.floor(cy) + R); j++) {
    for (let i = Math.max(0, Math.floor(cx) - R); i <= Math.min(w - 1, Math.floor(cx) + R); i++) {
      const d = Math.hypot(i - cx, j - cy);
      plane[j * w + i] += v / (1 + Math.exp((d - r) / 0.35));
    }
  }
}

/**
 * A smooth random curve: unit steps of `step` pixels whose heading drifts by N(0, bend) radians per step;
 * visit(x, y, s) gets every point with s ∈ [0, 1) the fraction of the length walked.
 */
function walk(rng: Rng, x: number, y: number, heading: number, length: number, step: number, bend: number, visit: (x: number, y: number, s: number) => void): void {
  const n = Math.max(1, Math.round(length / step));
  let turn = 0;
  for (let k = 0; k < n; k++) {
    visit(x, y, k / n);
    turn = 0.8 * turn + bend * gaussian(rng); // correlated turning keeps the curve smooth
    heading += turn;
    x += step * Math.cos(heading);
    y += step * Math.sin(heading);
  }
}

/** Soft-edged mask of a rotated ellipse: 1 inside, 0 outside, edge width `edge` pixels; also returns ρ (1 at the rim). */
function ellipse(i: number, j: number, cx: number, cy: number, a: number, b: number, angle: number, edge: number): { mask: number; rho: number; u: number; v: number } {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const u = (i - cx) * c + (j - cy) * s;
  const v = -(i - cx) * s + (j - cy) * c;
  const rho = Math.hypot(u / a, v / b);
  const t = Math.max(-30, Math.min(30, ((rho - 1) * Math.min(a, b)) / edge));
  return { mask: 1 / (1 + Math.exp(t)), rho, u, v };
}

// ---- fluorescence ------------------------------------------------------------------------------------------------

interface Nucleus { x: number; y: number; a: number; b: number; angle: number }

function fluorescence(opts: SpecimenOptions): Specimen {
  const { width: w, height: h, pixelSize: px, seed } = opts;
  const structures = opts.structures ?? STRUCTURES;
  const rng = new Rng(seed);
  const um = (v: number) => v / px;
  const area = w * h * px * px; // µm²
  const out = new Float32Array(w * h);

  // Nuclei positions are drawn even when nuclei are not shown: mitochondria cluster around them.
  const nuclei: Nucleus[] = [];
  const nNuclei = Math.max(1, Math.round((area / 900) * rng.uniform(0.7, 1.3)));
  for (let k = 0; k < nNuclei; k++) {
    const a = um(rng.uniform(5, 8));
    const b = a * rng.uniform(0.65, 0.95);
    let x = 0;
    let y = 0;
    for (let tries = 0; tries < 20; tries++) {
      x = rng.uniform(0, w);
      y = rng.uniform(0, h);
      if (nuclei.every((n) => Math.hypot(n.x - x, n.y - y) > 0.9 * (n.a + a))) break;
    }
    nuclei.push({ x, y, a, b, angle: rng.uniform(0, Math.PI) });
  }

  if (structures.includes('nuclei')) {
    const layer = new Float32Array(w * h);
    for (const n of nuclei) {
      const bright = rng.uniform(0.6, 1);
      const tex = rng.int(0x7fffffff);
      const nucleoli = Array.from({ length: 1 + rng.int(3) }, () => ({
        u: rng.uniform(-0.5, 0.5) * n.a,
        v: rng.uniform(-0.5, 0.5) * n.b,
        r: um(rng.uniform(0.6, 1.3)),
      }));
      const R = Math.ceil(n.a + 3);
      for (let j = Math.max(0, Math.floor(n.y - R)); j < Math.min(h, n.y + R); j++) {
        for (let i = Math.max(0, Math.floor(n.x - R)); i < Math.min(w, n.x + R); i++) {
          const e = ellipse(i, j, n.x, n.y, n.a, n.b, n.angle, um(0.3));
          if (e.mask < 1e-4) continue;
          // Chromatin: clumps ~0.8 µm over a finer grain, brighter heterochromatin at the envelope, dark nucleoli.
          const clumps = fbm(i, j, um(0.8), 3, tex);
          let v = 0.35 + 0.65 * clumps * clumps * 1.6 + 0.25 * Math.exp(-((((1 - e.rho) * n.a) / um(0.5)) ** 2));
          for (const q of nucleoli) {
            const d = Math.hypot(e.u - q.u, e.v - q.v);
            v *= 1 - 0.7 / (1 + Math.exp((d - q.r) / um(0.15)));
          }
          layer[j * w + i] += bright * e.mask * v;
        }
      }
    }
    addScaled(out, layer, 1);
  }

  if (structures.includes('actin')) {
    const layer = new Float32Array(w * h);
    // Stress fibres: long, nearly straight bundles grouped in a few orientation domains, plus thin curved filaments.
    const domains = Array.from({ length: 1 + rng.int(3) }, () => ({ x: rng.uniform(0, w), y: rng.uniform(0, h), angle: rng.uniform(0, Math.PI) }));
    const nFibres = Math.round((area / 12) * rng.uniform(0.7, 1.3));
    for (let k = 0; k < nFibres; k++) {
      const d = domains[rng.int(domains.length)];
      const straight = rng.next() < 0.7;
      const x = d.x + gaussian(rng) * um(12);
      const y = d.y + gaussian(rng) * um(12);
      const heading = straight ? d.angle + 0.15 * gaussian(rng) : rng.uniform(0, 2 * Math.PI);
      const length = um(straight ? rng.uniform(8, 35) : rng.uniform(3, 12));
      const v = (straight ? rng.uniform(0.5, 1) : rng.uniform(0.2, 0.5)) * 0.5;
      const mod = rng.int(0x7fffffff);
      walk(rng, x, y, heading, length, 0.5, straight ? 0.004 : 0.03, (cx, cy, s) => {
        // Fade in and out at the ends; brightness varies slowly along the fibre.
        const ends = Math.min(1, 6 * s, 6 * (1 - s));
        splat(layer, w, h, cx, cy, v * ends * (0.5 + valueNoise(s * 6, 0, mod)));
      });
    }
    addScaled(out, layer, 0.8);
  }

  if (structures.includes('mitochondria')) {
    const layer = new Float32Array(w * h);
    // Short branched tubules scattered around the nuclei, broken into puncta along their length.
    const nTubules = Math.round((area / 6) * rng.uniform(0.7, 1.3));
    for (let k = 0; k < nTubules; k++) {
      const n = nuclei[rng.int(nuclei.length)];
      const dist = n.a + um(Math.abs(gaussian(rng)) * 8);
      const phi = rng.uniform(0, 2 * Math.PI);
      const x = n.x + dist * Math.cos(phi);
      const y = n.y + dist * Math.sin(phi);
      const v = rng.uniform(0.4, 1);
      const mod = rng.int(0x7fffffff);
      const lengthUm = rng.uniform(0.8, 5);
      const branch = (bx: number, by: number, heading: number, len: number, depth: number) => {
        walk(rng, bx, by, heading, um(len), 0.5, 0.08, (cx, cy, s) => {
          const p = valueNoise(s * len * 2.5, depth, mod); // ~0.4 µm puncta
          blob(layer, w, h, cx, cy, um(0.12), 0.25 * v * p * p * 2);
          if (depth < 2 && rng.next() < 0.01) branch(cx, cy, heading + (rng.next() < 0.5 ? 1 : -1) * rng.uniform(0.5, 1.2), len * 0.5, depth + 1);
        });
      };
      branch(x, y, rng.uniform(0, 2 * Math.PI), lengthUm, 0);
    }
    addScaled(out, layer, 1);
  }

  // Dark background with faint, smooth autofluorescence; then peak 1.
  let peak = 0;
  for (const v of out) peak = Math.max(peak, v);
  const bgSeed = rng.int(0x7fffffff);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      out[j * w + i] = (peak > 0 ? out[j * w + i] / peak : 0) + 0.01 + 0.02 * fbm(i, j, um(15), 2, bgSeed);
    }
  }
  let top = 0;
  for (const v of out) top = Math.max(top, v);
  for (let i = 0; i < out.length; i++) out[i] /= top;
  return { kind: 'fluorescence', width: w, height: h, channels: 1, planes: out };
}

function addScaled(dst: Float32Array, src: Float32Array, scale: number): void {
  let peak = 0;
  for (const v of src) peak = Math.max(peak, v);
  if (peak === 0) return;
  for (let i = 0; i < dst.length; i++) dst[i] += (scale * src[i]) / peak;
}

// ---- bright-field ------------------------------------------------------------------------------------------------

// Optical density per unit stain density in R, G, B (Giemsa: cytoplasm blue–purple, chromatin magenta–purple).
const CYTOPLASM_OD = [0.55, 0.45, 0.15];
const CHROMATIN_OD = [0.75, 1.05, 0.35];

function brightfield(opts: SpecimenOptions): Specimen {
  const { width: w, height: h, pixelSize: px, seed } = opts;
  const rng = new Rng(seed);
  const um = (v: number) => v / px;
  const area = w * h * px * px;
  const cyto = new Float32Array(w * h);
  const chrom = new Float32Array(w * h);

  const nParasites = Math.max(1, Math.round((area / 350) * rng.uniform(0.6, 1.4)));
  for (let k = 0; k < nParasites; k++) {
    const rounded = rng.next() < 0.2; // some rounded (amastigote-like) forms
    const len = um(rounded ? rng.uniform(3, 5) : rng.uniform(10, 18)) / 2;
    const wid = rounded ? len * rng.uniform(0.75, 0.95) : um(rng.uniform(1.5, 2.6)) / 2;
    const cx = rng.uniform(0, w);
    const cy = rng.uniform(0, h);
    const angle = rng.uniform(0, 2 * Math.PI);
    const stain = rng.uniform(0.7, 1.2);
    const tex = rng.int(0x7fffffff);
    const ca = Math.cos(angle);
    const sa = Math.sin(angle);
    // Teardrop body: wider at the posterior (u < 0), tapering to the anterior tip where the flagellum leaves.
    const R = Math.ceil(len + 3);
    for (let j = Math.max(0, Math.floor(cy - R)); j < Math.min(h, cy + R); j++) {
      for (let i = Math.max(0, Math.floor(cx - R)); i < Math.min(w, cx + R); i++) {
        const u = (i - cx) * ca + (j - cy) * sa;
        const taper = rounded ? 1 : 1 - 0.35 * Math.max(-1, Math.min(1, u / len));
        const e = ellipse(i, j, cx, cy, len, wid * taper, angle, um(0.25));
        if (e.mask < 1e-4) continue;
        const thickness = Math.sqrt(Math.max(0, 1 - Math.min(1, e.rho) ** 2)); // a rounded cell absorbs more at its axis
        const granules = 0.6 + 0.8 * fbm(i, j, um(0.6), 3, tex);
        cyto[j * w + i] += stain * e.mask * (0.35 + 0.65 * thickness) * granules;
      }
    }
    // Nucleus near the middle and the kinetoplast between it and the anterior end.
    const nuc = { u: rng.uniform(-0.15, 0.1) * len, a: Math.min(um(1.3), 0.9 * wid), b: Math.min(um(1.0), 0.8 * wid), angle: angle + 0.2 * gaussian(rng) };
    for (let j = Math.max(0, Math.floor(cy - R)); j < Math.min(h, cy + R); j++) {
      for (let i = Math.max(0, Math.floor(cx - R)); i < Math.min(w, cx + R); i++) {
        const e = ellipse(i, j, cx + nuc.u * ca, cy + nuc.u * sa, nuc.a, nuc.b, nuc.angle, um(0.2));
        if (e.mask < 1e-4) continue;
        chrom[j * w + i] += stain * e.mask * (0.6 + 0.6 * fbm(i, j, um(0.4), 2, tex + 1));
      }
    }
    if (!rounded) {
      const ku = 0.55 * len;
      blob(chrom, w, h, cx + ku * ca, cy + ku * sa, um(0.3), 1.4 * stain);
      // Flagellum: a thin, pale, gently waving curve from the anterior tip, about as long as the body.
      const flen = 2 * len * rng.uniform(0.7, 1.4);
      walk(rng, cx + len * ca, cy + len * sa, angle, flen, 0.5, 0.02, (x, y, s) => {
        blob(cyto, w, h, x, y, um(0.15), 0.5 * stain * (1 - 0.5 * s));
      });
    }
  }

  // Light background: slightly warm, uneven illumination (vignetting) and faint debris texture.
  const bgSeed = rng.int(0x7fffffff);
  const tint = [0.93, 0.92, 0.88].map((v) => v * rng.uniform(0.97, 1.01));
  const planes = new Float32Array(3 * w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const r2 = ((i - w / 2) ** 2 + (j - h / 2) ** 2) / ((w * w + h * h) / 4);
      const light = 1 - 0.06 * r2 + 0.02 * (fbm(i, j, um(20), 2, bgSeed) - 0.5);
      const debris = 0.05 * Math.max(0, fbm(i, j, um(1.5), 3, bgSeed + 1) - 0.6);
      const p = j * w + i;
      for (let c = 0; c < 3; c++) {
        const od = (cyto[p] + debris) * CYTOPLASM_OD[c] + chrom[p] * CHROMATIN_OD[c];
        planes[c * w * h + p] = Math.min(1, tint[c] * light * Math.pow(10, -od));
      }
    }
  }
  return { kind: 'brightfield', width: w, height: h, channels: 3, planes };
}

