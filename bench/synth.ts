// Speed of the synthetic-data generator (CPU): one PSF, one 256×256 field of each kind, a 7-plane z-stack.
//   npx tsc -p tsconfig.json && node dist/bench/synth.js
import { renderField, SYNTH_DEFAULTS, type SynthOptions } from '../src/synth/generate.js';
import { defocusPsf, psfSampling, psfSize } from '../src/synth/psf.js';
import type { Kernel } from '../src/synth/psf.js';

function time(label: string, f: (run: number) => void, runs = 5): void {
  f(-1); // warm-up (JIT)
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) f(r);
  console.log(`${label}: ${((performance.now() - t0) / runs).toFixed(0)} ms`);
}

const o = { na: 0.8, wavelength: 0.52, index: 1.0, pixelSize: 0.16 };
for (const z of [0, 1.8, 3]) {
  const size = psfSize(o, z);
  const { oversample, grid } = psfSampling(o, z, size);
  time(`defocusPsf z=${z} µm (${size}×${size} px, grid ${grid}², oversample ${oversample})`, () => defocusPsf(o, z));
}
for (const kind of ['fluorescence', 'brightfield'] as const) {
  const paired: SynthOptions = { ...SYNTH_DEFAULTS[kind], size: 256, count: 1000 };
  // Each field draws its own defocus, so only the in-focus PSF is reused from the cache (as in generateSynth).
  const cache = new Map<string, Kernel>();
  time(`${kind} 256×256 pair (specimen + 2 planes + noise)`, (r) => renderField(paired, r + 1, cache));
  const stack: SynthOptions = { ...paired, layout: 'zstack' };
  const stackCache = new Map<string, Kernel>();
  time(`${kind} 256×256 z-stack of 7 planes (PSFs cached)`, (r) => renderField(stack, r + 1, stackCache), 3);
}
