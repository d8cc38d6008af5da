// `comi weights fetch` against an HTTP server on 127.0.0.1 serving the Keras fixture: a good download is verified,
// converted, cached and reused; a truncated body, a wrong checksum, a 404 and a refused connection each give one
// line and leave no file behind.
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fetchVgg } from '../../src/weights/download.js';
import { readVggCache } from '../../src/weights/cache.js';
import { OFFICIAL_VGG19 } from '../../src/weights/vgg19.js';
import { fixture, fixtureWeights, expectSameWeights, W16 } from './helpers.js';

const body = readFileSync(fixture('keras_notop.h5'));
const md5 = createHash('md5').update(body).digest('hex');
const requests: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/good') {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    } else if (req.url === '/chunked') {
      res.writeHead(200); // no content-length: only the checksum can tell a short body
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
    } else if (req.url === '/truncated') {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
    } else {
      res.writeHead(404, 'Not Found');
      res.end('no such file');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'comi-fetch-'));
  requests.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n');
  return msg;
}

describe('fetch', () => {
  it('a good download is verified, converted and cached, then reused without a request', async () => {
    const seen: [number, number | null][] = [];
    const r = await fetchVgg('keras', { dir, url: `${base}/good`, release: { algorithm: 'md5', digest: md5 }, onProgress: (b, t) => seen.push([b, t]) });
    expect(r.reused).toBe(false);
    if (r.reused) return;
    expect(r.path).toBe(join(dir, 'vgg19-keras.safetensors'));
    expect(readdirSync(dir)).toEqual(['vgg19-keras.safetensors']);
    expect(seen.at(-1)).toEqual([body.length, body.length]);
    const cached = readVggCache(r.path, 'keras');
    expectSameWeights(cached.weights, fixtureWeights(W16));
    expect(cached.metadata.origin).toBe(OFFICIAL_VGG19.keras.file);
    expect(requests).toEqual(['/good']);

    expect(await fetchVgg('keras', { dir, url: `${base}/good`, release: { algorithm: 'md5', digest: md5 } })).toEqual({ reused: true, path: r.path });
    expect(requests).toEqual(['/good']);
    const again = await fetchVgg('keras', { dir, url: `${base}/chunked`, release: { algorithm: 'md5', digest: md5 }, force: true });
    expect(again.reused).toBe(false);
    expect(requests).toEqual(['/good', '/chunked']);
    expect(readdirSync(dir)).toEqual(['vgg19-keras.safetensors']);
  });

  it('a file that does not match the published checksum is refused', async () => {
    const msg = await failure(fetchVgg('keras', { dir, url: `${base}/good` }));
    expect(msg).toBe(`${base}/good: md5 ${md5} does not match the published ${OFFICIAL_VGG19.keras.digest} (damaged or wrong file); nothing was saved`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a truncated download is named with how much arrived', async () => {
    const msg = await failure(fetchVgg('keras', { dir, url: `${base}/truncated`, release: { algorithm: 'md5', digest: md5 } }));
    expect(msg).toMatch(new RegExp(`^download of ${base}/truncated was cut off after [0-9.]+ of 0\\.4 MB .*nothing was saved, run the command again$`));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a 404 is one line and leaves nothing', async () => {
    const msg = await failure(fetchVgg('torchvision', { dir, url: `${base}/missing.pth` }));
    expect(msg).toBe(`download of ${base}/missing.pth failed: HTTP 404 Not Found`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('no server at all points to the offline import', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const msg = await failure(fetchVgg('keras', { dir, url: `http://127.0.0.1:${port}/x.h5` }));
    expect(msg).toBe(`cannot download http://127.0.0.1:${port}/x.h5 (ECONNREFUSED); without internet, download it on another machine and run \`comi weights import FILE\``);
    expect(readdirSync(dir)).toEqual([]);
  });
});
