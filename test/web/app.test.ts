// The web app (dist/web, built by scripts/build-web.mjs in the test setup) in headless Chromium with its WebGPU
// adapter (SwiftShader): it loads, takes a model and an image through its inputs, corrects and downloads; its
// corrections equal the Node engine's; the conv, transposed-conv and instance-norm oracle tests run in the page, also
// with the GPUs' kernel strategies forced (compiled by the browser's WebGPU); bad inputs get one visible line. Writes
// a screenshot after a correction to dist/test-artifacts/web-app.png.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Browser, Page } from 'puppeteer-core';
import { chromium, NO_CHROMIUM } from '../helpers/chromium.js';
import { ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, relError } from '../helpers/oracle.js';
import { caseInputData, caseGradOutputData } from '../kernels/oracle_case.js';
import type { ConvTiling } from '../../src/kernels/conv_gemm.js';
import { strategyName } from '../helpers/strategy.js';
import { readImage, type Image } from '../../src/data/image.js';
import { loadGenerator } from '../../src/train/run_folder.js';
import { correctImage, runSettings } from '../../src/correct/correct.js';
import { encodeTiff } from '../../src/data/tiff.js';
import { encodeJpeg, decodeJpeg } from '../../src/data/jpeg.js';
import { renderField, SYNTH_DEFAULTS } from '../../src/synth/generate.js';
import { ROOT, PARITY_CASES, PARITY_TOL, caseName, modelBytes, nodeCorrection, maxDiffInGeneratorUnits } from './parity.js';

const ARTIFACTS = join(ROOT, 'dist/test-artifacts');
const WAIT = { timeout: 300_000 };

const b64 = (a: Uint8Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const floats = (s: string) => {
  const bytes = Buffer.from(s, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

describe.skipIf(!chromium)('web app in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let downloads: string;
  let base: string;

  async function open(prepare?: (p: Page) => Promise<void>): Promise<Page> {
    const p = await browser.newPage();
    await prepare?.(p);
    await p.goto(base);
    await p.waitForFunction(() => !document.getElementById('status')!.textContent!.startsWith('Loading'), WAIT);
    return p;
  }

  const status = (p: Page) => p.$eval('#status', (e) => ({ text: e.textContent ?? '', error: e.classList.contains('error'), visible: e.getBoundingClientRect().height > 0 }));

  /** Waits for #status to match, and returns it. */
  async function statusMatching(p: Page, re: RegExp): Promise<{ text: string; error: boolean; visible: boolean }> {
    await p.waitForFunction((src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''), WAIT, re.source);
    return status(p);
  }

  beforeAll(async () => {
    const { serveWeb } = await import('../../scripts/serve-web.mjs');
    server = await serveWeb(0);
    // Kernel variants at their defaults, as in the Node tests (vitest.config.ts).
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/?COMI_AUTOTUNE=0`;
    const puppeteer = (await import('puppeteer-core')).default;
    downloads = mkdtempSync(join(tmpdir(), 'comi-web-'));
    browser = await puppeteer.launch({
      executablePath: chromium, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu'],
      downloadBehavior: { policy: 'allow', downloadPath: downloads },
    });
    page = await open();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (downloads) rmSync(downloads, { recursive: true, force: true });
  });

  it('loads with the adapter named and the bundled model ready', async () => {
    expect(await status(page)).toEqual({ text: 'Ready: drop an image (PNG, JPEG or TIFF), or choose one.', error: false, visible: true });
    expect(await page.$eval('#adapter', (e) => e.textContent)).toMatch(/^WebGPU adapter: \S/);
  });

  for (const parityCase of PARITY_CASES) {
    const { image, model, rlInput } = parityCase;
    it(`corrects ${caseName(parityCase)} like the Node engine (≤ ${PARITY_TOL} in generator units)`, async () => {
      const node = await nodeCorrection(parityCase);
      const out = await page.evaluate(async (modelB64: string, imageB64: string, name: string, rlInputJson: string) => {
        const c = (globalThis as unknown as { comi: typeof import('../../src/browser.js') }).comi;
        const bytes = (s: string) => Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));
        const { generator, config } = await c.generatorFromBytes(bytes(modelB64), 'generator.safetensors');
        const data = bytes(imageB64);
        const input = c.sniffFormat(data, name) === 'jpeg' ? c.decodeJpeg(data, name) : (await c.decodeTiff(data, name, false))[0];
        const rl = rlInputJson ? { rlInput: JSON.parse(rlInputJson) } : {};
        const r = await c.correctImage(generator, input, { ...c.runSettings(config), ...rl, dtype: 'float32' });
        generator.dispose();
        return Array.from(r.image.data);
      }, b64(modelBytes(model)), b64(readFileSync(join(ROOT, image))), image, rlInput ? JSON.stringify(rlInput) : '');
      const diff = maxDiffInGeneratorUnits(out, node.output, node.normalization);
      console.log(`browser vs Node, ${caseName(parityCase)}: max |Δ| = ${diff.toExponential(2)} in generator units`);
      expect(diff).toBeLessThanOrEqual(PARITY_TOL);
    });
  }

  it('takes a run\'s model and an image through its inputs, corrects, shows and downloads the result', async () => {
    const { image, model } = PARITY_CASES[1]; // RGB JPEG, 3-channel model
    const modelInput = await page.$('#model-file');
    await modelInput!.uploadFile(join(ROOT, 'models', model, 'generator.safetensors'), join(ROOT, 'models', model, 'config.json'));
    expect(await statusMatching(page, /^model generator\.safetensors loaded$|^cannot/)).toMatchObject({ error: false });
    const imageInput = await page.$('#image-file');
    await imageInput!.uploadFile(join(ROOT, image));
    expect((await statusMatching(page, /Press Correct\.$|^cannot/)).text).toBe('rgb444.jpg: 37×23, RGB, 8-bit. Press Correct.');
    await page.click('#correct');
    expect(await statusMatching(page, /corrected in|^cannot|cancelled/)).toMatchObject({ error: false });
    await page.click('#download');
    const file = join(downloads, 'rgb444_corrected.jpg');
    for (let i = 0; i < 100 && !readdirSync(downloads).includes('rgb444_corrected.jpg'); i++) await new Promise((r) => setTimeout(r, 100));
    const downloaded = await readImage(file);
    const { generator, config } = await loadGenerator(`pretrained:${model}`);
    const expected: Image = (await correctImage(generator, await readImage(join(ROOT, image)), runSettings(config))).image;
    generator.dispose();
    // The download is the corrected image re-encoded as JPEG (quality 95), as the CLI writes it.
    const cliWritten = decodeJpeg(encodeJpeg(expected), 'expected.jpg');
    expect({ ...downloaded, data: null }).toEqual({ ...cliWritten, data: null });
    let maxDiff = 0;
    for (let i = 0; i < cliWritten.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(downloaded.data[i] - cliWritten.data[i]));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  for (const [image, name] of [[PARITY_CASES[0].image, 'u16_lzw_corrected.tif'], ['test/fixtures/data_io/u16_gray.png', 'u16_gray_corrected.png']]) {
    it(`corrects ${image} with the bundled model and downloads it in its format and bit depth`, async () => {
      await page.select('#model-choice', 'demo');
      await statusMatching(page, /^bundled demo model loaded$|^cannot/);
      await (await page.$('#image-file'))!.uploadFile(join(ROOT, image));
      await statusMatching(page, /Press Correct\.$|^cannot/);
      await page.click('#correct');
      expect(await statusMatching(page, /corrected in|^cannot|cancelled/)).toMatchObject({ error: false });
      await page.click('#download');
      for (let i = 0; i < 100 && !readdirSync(downloads).includes(name); i++) await new Promise((r) => setTimeout(r, 100));
      const downloaded = await readImage(join(downloads, name));
      const { generator, config } = await loadGenerator('pretrained:fluorescence');
      const expected = (await correctImage(generator, await readImage(join(ROOT, image)), runSettings(config))).image;
      generator.dispose();
      expect({ ...downloaded, data: null }).toEqual({ ...expected, data: null });
      let maxDiff = 0;
      for (let i = 0; i < expected.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(downloaded.data[i] - expected.data[i]));
      expect(maxDiff).toBeLessThanOrEqual(1);
    });
  }

  it('corrects a synthetic out-of-focus fluorescence field; screenshot of before / after', async () => {
    // What the bundled model was trained on (scripts/pretrained/train.sh): 16-bit fluorescence, 1–3 µm out of focus.
    const field = renderField({ ...SYNTH_DEFAULTS.fluorescence, count: 1, size: 192, defocus: [2, 2], camera: { ...SYNTH_DEFAULTS.fluorescence.camera, bitDepth: 16 }, seed: 3 }, 0);
    const dir = mkdtempSync(join(tmpdir(), 'comi-shot-'));
    const file = join(dir, 'synthetic_fluorescence.tif');
    writeFileSync(file, encodeTiff(field.planes[0].image));
    await (await page.$('#image-file'))!.uploadFile(file);
    await statusMatching(page, /Press Correct\.$|^cannot/);
    // Cancel takes effect at the next tile (here: the only one); nothing is shown or offered for download.
    await page.click('#correct');
    await page.click('#cancel');
    expect(await statusMatching(page, /corrected in|^cannot|cancelled/)).toMatchObject({ text: 'correction cancelled', error: true });
    expect(await page.$eval('#download', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
    await page.click('#correct');
    expect((await statusMatching(page, /corrected in|^cannot|cancelled/)).text).toMatch(/^synthetic_fluorescence\.tif corrected in/);
    // Zoomed, with the split across the field's brightest cell: one cell seen before and after.
    for (const [id, value] of [['zoom', '1.5'], ['split', '72']]) {
      await page.$eval(`#${id}`, (e, v) => {
        (e as HTMLInputElement).value = v;
        e.dispatchEvent(new Event('input'));
      }, value);
    }
    await page.setViewport({ width: 900, height: 660 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-app.png') });
    rmSync(dir, { recursive: true });
  });

  /** A conv or instance-norm oracle case run in the page (with `tiling`, every convolution forced to it and the
   * reductions to the GPUs' 256-wide tree), checked against PyTorch at the Node tests' tolerance. */
  async function pageOracleCase(group: 'conv' | 'norm', name: string, tiling?: ConvTiling): Promise<void> {
    const fx = loadFixture(group, name);
    const inputs = Object.fromEntries(Object.entries(fx.inputs).map(([k, spec]) => [k, { shape: spec.shape, data: b64(caseInputData(fx, k)) }]));
    const ySize = fx.outputs.y.shape.reduce((a, b) => a * b, 1);
    const got = await page.evaluate(async (inputs: Record<string, { shape: number[]; data: string }>, params: Record<string, any>, gradB64: string, tiling: ConvTiling | null) => {
      const c = (globalThis as unknown as { comi: typeof import('../../src/browser.js') }).comi;
      const f32 = (s: string) => new Float32Array(Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0)).buffer);
      const tensor = (k: string) => {
        const t = c.Tensor.fromArray(f32(inputs[k].data), inputs[k].shape);
        t.requiresGrad = true;
        return t;
      };
      c.setConvTiling(tiling);
      c.setReduction(tiling ? 'tree' : null);
      try {
        const outs = c.scope(() => {
          const x = tensor('x');
          const w = inputs.weight ? tensor('weight') : undefined;
          const b = inputs.bias ? tensor('bias') : undefined;
          const y = params.op === 'conv2d' ? c.conv2d(x, w!, b ?? null, { stride: params.stride, padding: params.padding, paddingMode: params.paddingMode })
            : params.op === 'conv_transpose2d' ? c.convTranspose2d(x, w!, b ?? null, { stride: params.stride, padding: params.padding, outputPadding: params.outputPadding })
              : c.instanceNorm(x, { eps: params.eps, weight: w, bias: b });
          c.backward(y, c.Tensor.fromArray(f32(gradB64), y.shape));
          return { y, dx: x.grad, dweight: w?.grad ?? null, dbias: b?.grad ?? null };
        });
        const result: Record<string, string> = {};
        for (const [k, t] of Object.entries(outs)) {
          if (!t) continue;
          const bytes = new Uint8Array((await t.data()).buffer);
          let s = '';
          for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          result[k] = btoa(s);
          t.dispose();
        }
        return result;
      } finally {
        c.setConvTiling(null);
        c.setReduction(null);
      }
    }, inputs, fx.params, b64(caseGradOutputData(fx, ySize)), tiling ?? null);
    for (const key of Object.keys(fx.outputs)) {
      expect(got[key], `${name}: no ${key}`).toBeTruthy();
      expect(relError(floats(got[key]), fx.outputs[key]), `${name}.${key}`).toBeLessThanOrEqual(ORACLE_TOL);
    }
  }

  const oracleCases = [
    ...fixtureCases('conv').map((name) => ['conv', name] as const),
    ...fixtureCases('norm').filter((n) => n.startsWith('instance_norm')).map((name) => ['norm', name] as const),
  ];

  describe('oracle tests inside the page', () => {
    for (const [group, name] of oracleCases) it(name, () => pageOracleCase(group, name));
  });

  // What only GPUs pick, compiled by the browser's own WebGPU: workgroup-memory tiles (split over input channels, the
  // phase gather by phases), Winograd F(4×4) with its GEMMs in workgroup-memory tiles, the 256-wide tree reductions.
  describe('oracle tests inside the page on the GPUs\' strategies', () => {
    const strategies: ConvTiling[] = [{ strategy: 'tiles', tm: 4, tn: 4 }, { strategy: 'tiles', tm: 8, tn: 8, splitK: 'auto' }, { strategy: 'winograd', tm: 8, tn: 8, m: 4, tiledGemm: true }];
    for (const t of strategies) {
      it(`${strategyName(t)}, tree reductions: every conv and instance-norm case`, async () => {
        for (const [group, name] of oracleCases) await pageOracleCase(group, name, t);
      });
    }
  });

  describe('bad input: one visible line', () => {
    const expectOneLine = (s: { text: string; error: boolean; visible: boolean }, re: RegExp) => {
      expect(s.error).toBe(true);
      expect(s.visible).toBe(true);
      expect(s.text).not.toContain('\n');
      expect(s.text).toMatch(re);
    };

    it('an image that is no image, and a truncated one', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'comi-bad-'));
      writeFileSync(join(dir, 'notes.png'), 'not an image at all');
      const jpeg = readFileSync(join(ROOT, PARITY_CASES[1].image));
      writeFileSync(join(dir, 'cut.jpg'), jpeg.subarray(0, jpeg.length >> 1));
      await (await page.$('#image-file'))!.uploadFile(join(dir, 'notes.png'));
      expectOneLine(await statusMatching(page, /^cannot read the image/), /^cannot read the image: not supported: file format of notes\.png \(not a PNG, JPEG or TIFF file\)$/);
      await (await page.$('#image-file'))!.uploadFile(join(dir, 'cut.jpg'));
      expectOneLine(await statusMatching(page, /^cannot read the image: .*cut\.jpg/), /^cannot read the image: cannot read cut\.jpg: /);
      expect(await page.$eval('#correct', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
      rmSync(dir, { recursive: true });
    });

    it('a model file that is not a generator', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'comi-bad-'));
      writeFileSync(join(dir, 'generator.safetensors'), 'garbage');
      await (await page.$('#model-file'))!.uploadFile(join(dir, 'generator.safetensors'));
      expectOneLine(await statusMatching(page, /^cannot load the model/), /^cannot load the model: generator\.safetensors: too short to be a safetensors file$/);
      rmSync(dir, { recursive: true });
    });

    it('no bundled model on the server', async () => {
      const p = await open(async (q) => {
        await q.setRequestInterception(true);
        q.on('request', (r) => (r.url().endsWith('generator.safetensors') ? r.respond({ status: 404, body: 'not found' }) : r.continue()));
      });
      expectOneLine(await status(p), /^cannot load the demo model: the bundled model is missing \(HTTP 404\)$/);
      await p.close();
    });

    it('a browser without WebGPU', async () => {
      const p = await open((q) => q.evaluateOnNewDocument(() => {
        delete (Navigator.prototype as { gpu?: unknown }).gpu;
      }).then(() => {}));
      expectOneLine(await status(p), /^WebGPU is not available: no WebGPU adapter found \(this browser has no WebGPU \(navigator\.gpu is missing\)\): use a browser with WebGPU/);
      expect(await p.$eval('#adapter', (e) => e.textContent)).toBe('WebGPU adapter: none');
      await p.close();
    });
  });
});

if (!chromium) it.skip(NO_CHROMIUM, () => {});
