// The browser build of the engine (dist/web/comi.js: src/browser.ts bundled by esbuild for the browser) given
// nothing but navigator.gpu — here Dawn's, on this machine's adapter — corrects exactly like the Node entry. It
// runs without Chromium; test/web/app.test.ts repeats the comparison inside Chromium.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { create, globals } from 'webgpu';
import { ROOT, PARITY_CASES, PARITY_TOL, caseName, caseSettings, modelBytes, nodeCorrection, maxDiffInGeneratorUnits } from './parity.js';

type Bundle = typeof import('../../src/browser.js');

let bundle: Bundle;

beforeAll(async () => {
  Object.assign(globalThis, globals);
  // Node 20 has no navigator; later versions have one without gpu.
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: GPU };
  Object.defineProperty(nav, 'gpu', { value: create([]), configurable: true });
  // The browser host reads its settings from the page's query string: kernel variants at their defaults.
  (globalThis as { location?: URL }).location ??= new URL('http://localhost/?COMI_AUTOTUNE=0');
  bundle = await import(pathToFileURL(join(ROOT, 'dist/web/comi.js')).href);
});

describe('browser bundle on navigator.gpu', () => {
  it('holds no Node module', () => {
    const code = ['comi.js', 'app.js'].map((f) => readFileSync(join(ROOT, 'dist/web', f), 'utf8')).join('\n');
    expect(code).not.toMatch(/from\s*["'](node:|fs|path|os|zlib|webgpu)["']/);
  });

  for (const parityCase of PARITY_CASES) {
    const { image, model, rlInput } = parityCase;
    it(`corrects ${caseName(parityCase)} like the Node entry (≤ ${PARITY_TOL})`, async () => {
      const node = await nodeCorrection(parityCase);
      const { generator, config } = await bundle.generatorFromBytes(modelBytes(model), `${model}/generator.safetensors`);
      const bytes = readFileSync(join(ROOT, image));
      const input = bundle.sniffFormat(bytes, image) === 'jpeg' ? bundle.decodeJpeg(bytes, image) : (await bundle.decodeTiff(bytes, image, false))[0];
      expect(input).toEqual(node.input);
      const r = await bundle.correctImage(generator, input, caseSettings(bundle.runSettings(config), parityCase));
      generator.dispose();
      expect(maxDiffInGeneratorUnits(r.image.data, node.output, node.normalization)).toBeLessThanOrEqual(PARITY_TOL);
      // The stage must change the correction, or the case would not test it.
      if (rlInput) expect(maxDiffInGeneratorUnits(node.output, (await nodeCorrection({ image, model })).output, node.normalization)).toBeGreaterThan(1e-2);
    });
  }
});
