// The web app's correction against the Node engine's: the bundled demo model (models/fluorescence) over one
// SIZE² 16-bit image, in headless Chromium (system `chromium`, its WebGPU adapter) and in Node (Dawn), each after a
// small warm-up image; and the web bundle's size. Needs a built web app (npm run build:web).
//   node dist/bench/browser.js [--size 1024] [--chromium /usr/bin/chromium]
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { hashUniform } from '../src/graph/random.js';
import { loadGenerator } from '../src/train/run_folder.js';
import { correctImage, runSettings } from '../src/correct/correct.js';
import { packageRoot } from '../src/io/package_root.js';
import type { Image } from '../src/data/image.js';
import { benchGpu, saveSection, fmt, flag } from './harness.js';

const WARMUP = 64;

function testImage(size: number): Image {
  const data = Uint16Array.from(hashUniform(size * size, 9, 1), (v) => Math.round((v + 1) * 20000));
  return { width: size, height: size, channels: 1, bitDepth: 16, data };
}

async function nodeMs(size: number): Promise<number> {
  const { generator, config } = await loadGenerator('pretrained:fluorescence');
  const s = runSettings(config);
  await correctImage(generator, testImage(WARMUP), s);
  const t0 = performance.now();
  await correctImage(generator, testImage(size), s);
  const ms = performance.now() - t0;
  generator.dispose();
  return ms;
}

async function chromiumMs(size: number, executablePath: string): Promise<{ ms: number; adapter: string }> {
  const serve = join(packageRoot(), 'scripts/serve-web.mjs');
  const { serveWeb } = (await import(pathToFileURL(serve).href)) as { serveWeb: (port: number) => Promise<import('node:http').Server> };
  const server = await serveWeb(0);
  // No protocol timeout: a large image on a software adapter takes minutes inside one evaluate.
  const browser = await puppeteer.launch({ executablePath, headless: true, protocolTimeout: 0, args: ['--no-sandbox', '--enable-unsafe-webgpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/?COMI_AUTOTUNE=0`);
    await page.waitForFunction(() => /^Ready|^cannot|^WebGPU/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 300_000 });
    const adapter = (await page.$eval('#adapter', (e) => e.textContent ?? '')).replace(/^WebGPU adapter: /, '');
    const ms = await page.evaluate(async (size: number, warmup: number) => {
      const g = globalThis as unknown as { comi: typeof import('../src/browser.js'); comiApp: { model: { generator: import('../src/browser.js').ResnetGenerator; settings: import('../src/browser.js').CorrectSettings } } };
      const { generator, settings } = g.comiApp.model;
      const image = (n: number, seed: number) => {
        // The same values as testImage (hashUniform is the engine's counter-based generator).
        const data = new Uint16Array(n * n);
        const u = g.comi.hashUniform(n * n, seed, 1);
        for (let i = 0; i < u.length; i++) data[i] = Math.round((u[i] + 1) * 20000);
        return { width: n, height: n, channels: 1 as const, bitDepth: 16 as const, data };
      };
      await g.comi.correctImage(generator, image(warmup, 9), settings);
      const t0 = performance.now();
      await g.comi.correctImage(generator, image(size, 9), settings);
      return performance.now() - t0;
    }, size, WARMUP);
    return { ms, adapter };
  } finally {
    await browser.close();
    server.close();
  }
}

function bundleBytes(): { all: number; gzip: number; initialGzip: number } {
  const dir = join(packageRoot(), 'dist/web');
  const js = readdirSync(dir).filter((f) => f.endsWith('.js'));
  const gz = (f: string) => gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
  // What the page loads before any image: app.js and the chunks it imports statically (geotiff's decoders of
  // other compressions load on demand).
  const app = readFileSync(join(dir, 'app.js'), 'utf8');
  const initial = ['app.js', ...[...app.matchAll(/from"\.\/(chunk-[\w-]+\.js)"/g)].map((m) => m[1])];
  return {
    all: js.reduce((n, f) => n + readFileSync(join(dir, f)).length, 0),
    gzip: js.reduce((n, f) => n + gz(f), 0),
    initialGzip: [...new Set(initial)].reduce((n, f) => n + gz(f), 0),
  };
}

async function main(): Promise<void> {
  const size = Number(flag('size', '1024'));
  const chromium = flag('chromium', '/usr/bin/chromium');
  const r = await benchGpu();
  const bundle = bundleBytes();
  const kib = (b: number) => fmt(b / 1024, 0);
  console.log(`  bundle: ${kib(bundle.all)} KiB of JS, ${kib(bundle.gzip)} KiB gzip (${kib(bundle.initialGzip)} KiB gzip loaded with the page)`);
  const node = await nodeMs(size);
  console.log(`  ${size}² 16-bit, demo model: Node (${r.gpu.adapterName}) ${fmt(node, 0)} ms`);
  const web = await chromiumMs(size, chromium);
  console.log(`  ${size}² 16-bit, demo model: Chromium (${web.adapter}) ${fmt(web.ms, 0)} ms`);
  saveSection('browser', {
    title: `Web app: bundle size and ${size}² correction, Chromium vs Node`,
    notes: ['Bundled demo model (fluorescence, ngf 16, 6 blocks), one 16-bit image after a 64² warm-up, whole-image statistics; gzip level 9.'],
    table: {
      head: ['where', 'adapter', `ms per ${size}² image`],
      rows: [['Node (Dawn)', r.gpu.adapterName, fmt(node, 0)], ['headless Chromium', web.adapter, fmt(web.ms, 0)]],
    },
    data: { size, nodeMs: node, chromiumMs: web.ms, chromiumAdapter: web.adapter, bundle },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main().then(() => process.exit(0));
