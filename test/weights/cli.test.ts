// `comi weights` as a user runs it (a child process on the TypeScript sources): exit codes, one-line errors,
// and nothing written on failure.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { OFFICIAL_VGG19 } from '../../src/weights/vgg19.js';
import { weightsCommand } from '../../src/cli/weights.js';
import { UsageError } from '../../src/cli/errors.js';
import { fixture } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LOADER = pathToFileURL(join(ROOT, 'test', 'graph', 'ts-loader.mjs')).href;

let cache: string;
beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'comi-cli-'));
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

function comi(...args: string[]): Promise<{ code: number; stdout: string; stderr: string[] }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', LOADER, join(ROOT, 'src', 'cli', 'main.ts'), 'weights', ...args],
      { env: { ...process.env, COMI_CACHE: cache, COMI_DEBUG: '' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr: stderr.split('\n').filter(Boolean) }),
    );
  });
}

describe('comi weights', () => {
  it('import caches a fixture file, warns that it is not the official release, and list shows it', async () => {
    const r = await comi('import', fixture('keras_notop.h5'));
    const path = join(cache, 'weights', 'vgg19-keras.safetensors');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`cached keras VGG19 weights from ${fixture('keras_notop.h5')} (widths 4,4,8,8,16,16,16,16,32,32,32,32,32,32,32,32) at ${path}\n`);
    expect(r.stderr).toEqual([`warning: ${fixture('keras_notop.h5')} is not the published keras release (its checksum differs); its weights were imported as they are`]);
    const list = await comi('list');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`vgg19 keras       ${path} (from keras_notop.h5; widths 4,4,8`);
    expect(list.stdout).toContain('vgg19 torchvision not cached (comi weights fetch vgg19 --source torchvision)');
  });

  it('a wrong file exits 1 with one line and writes nothing', async () => {
    const r = await comi('import', fixture('features_keras_rgb.json'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toEqual([`comi weights: ${fixture('features_keras_rgb.json')}: not a VGG19 weight file (expected Keras HDF5 .h5, PyTorch .pth or .safetensors)`]);
    expect(existsSync(join(cache, 'weights'))).toBe(false);
  });

  it('bad usage exits 2 with one line', async () => {
    const r = await comi('fetch', 'vgg19', '--source', 'caffe');
    expect(r.code).toBe(2);
    expect(r.stderr).toEqual(["comi weights: --source must be one of keras, torchvision, got 'caffe'"]);
    // The other usage errors in-process (a child costs seconds): each is a UsageError, which runMain maps to exit 2.
    const cases: [string[], string][] = [
      [['fetch'], 'name the weights to fetch: `comi weights fetch vgg19`'],
      [['fetch', 'resnet50'], "unknown weights 'resnet50'; available: vgg19"],
      [['fetch', 'vgg19', '--url', 'ftp://mirror/x.h5'], "--url must be an http:// or https:// address, got 'ftp://mirror/x.h5'"],
      [['import'], 'give the weight file: `comi weights import FILE`'],
      [['import', 'a.h5', 'b.h5'], 'import takes one file, got 2'],
      [['import', 'a.h5', '--force'], '--force does not apply to `comi weights import`'],
      [['list', 'x'], "unexpected argument 'x'"],
      [['update'], "unknown action 'update'; use fetch, import or list (comi weights --help)"],
    ];
    for (const [args, line] of cases) {
      const err = await weightsCommand(args).then(() => null, (e: unknown) => e);
      expect(err, args.join(' ')).toBeInstanceOf(UsageError);
      expect((err as Error).message, args.join(' ')).toBe(line);
    }
  });

  it('fetch from a mirror serving the wrong file exits 1 naming the checksum, and caches nothing', async () => {
    const body = readFileSync(fixture('keras_notop.h5'));
    const server = createServer((_, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vgg19.h5`;
    try {
      const r = await comi('fetch', 'vgg19', '--url', url);
      expect(r.code).toBe(1);
      const errors = r.stderr.filter((l) => !l.startsWith('download '));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(new RegExp(`^comi weights: ${url}: md5 [0-9a-f]{32} does not match the published ${OFFICIAL_VGG19.keras.digest} \\(damaged or wrong file\\); nothing was saved$`));
      expect(readdirSync(join(cache, 'weights'))).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
