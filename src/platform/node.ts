// The Node host: Dawn's Node bindings (npm `webgpu`), process.env, the cache folder, and the throttle of Dawn's
// polling. Importing this module installs it (the Node entry, the CLI, benchmarks and tests do).
import { mkdirSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { create, globals } from 'webgpu';
import { comiCacheDir } from '../io/cache_dir.js';
import { writeFileAtomic } from '../io/atomic.js';
import { setPlatform, AdapterRequestError, type AdapterRequest, type Platform } from './platform.js';

// Dawn's instance dies with a futex error or SIGSEGV if the object create() returns is collected: keep it here.
let dawnInstance: GPU | null = null;

function dawnFlags(req: AdapterRequest): string[] {
  // Timestamps unquantized: Dawn rounds them to 65.5 µs by default (a browser's defence against timing attacks), which
  // on a GPU is longer than most dispatches of a small step, so the autotuner's trials would tie.
  const flags: string[] = ['disable-dawn-features=timestamp_quantization'];
  const backend = req.backend ?? process.env.COMI_BACKEND;
  const adapter = req.adapter ?? process.env.COMI_ADAPTER;
  if (backend) flags.push(`backend=${backend}`);
  if (adapter) flags.push(`adapter=${adapter}`);
  return flags;
}

/** Dawn rejects an unknown adapter name with "no suitable backends found" and lists the adapters it has on the
 * following lines: keep those names on the one line the user sees, and the fix is one of them (not a driver). */
function dawnError(message: string): Error {
  const [first, ...rest] = message.split('\n');
  const names = rest.map((line) => /name: '([^']*)'/.exec(line)?.[1]).filter(Boolean);
  if (!names.length) return new Error(first);
  return new AdapterRequestError(`${first}; Dawn has: ${names.join(', ')}`, 'name one of the adapters Dawn has (COMI_ADAPTER, or the adapter option), or none');
}

/** Dawn's own polling callbacks: the N-API functions it makes for each poll are native, anonymous and take no
 * arguments (a promise's resolve function, also native and anonymous, takes one). */
function isDawnPoll(fn: unknown, args: unknown[]): boolean {
  return typeof fn === 'function' && fn.name === '' && fn.length === 0 && args.length === 0 &&
    Function.prototype.toString.call(fn).includes('[native code]');
}

/** Dawn's Node bindings poll for finished GPU work by re-queueing a native callback with setImmediate as long as a
 * map or onSubmittedWorkDone is pending: a busy loop on the main thread. On CPU adapters (lavapipe) that loop takes
 * a core from the threads doing the work (docs/performance.md, item 1). Only Dawn's callbacks wait COMI_POLL_MS
 * (default 1; 0 = Dawn's busy polling); every other caller gets setImmediate itself, so clearImmediate works as
 * usual. The returned function restores setImmediate. */
function throttleDawnPolling(): () => void {
  const ms = Number(process.env.COMI_POLL_MS ?? 1);
  const immediate = globalThis.setImmediate;
  if (!(ms > 0)) return () => {};
  const throttled = ((fn: (...args: unknown[]) => void, ...args: unknown[]) =>
    isDawnPoll(fn, args) ? setTimeout(fn, ms) : immediate(fn, ...args)) as typeof setImmediate;
  Object.assign(throttled, immediate);
  globalThis.setImmediate = throttled;
  return () => {
    if (globalThis.setImmediate === throttled) globalThis.setImmediate = immediate;
  };
}

let lastPath = { dir: '', name: '', path: '' };

/** name in the cache folder (asked on every autotune lookup: joined again only when the folder or name changes). */
function storePath(name: string): string {
  const dir = comiCacheDir();
  if (lastPath.dir !== dir || lastPath.name !== name) lastPath = { dir, name, path: join(dir, name) };
  return lastPath.path;
}

export const nodePlatform: Platform = {
  name: 'node',
  async requestAdapter(req) {
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    Object.assign(globalThis, globals);
    try {
      dawnInstance = create(dawnFlags(req)) as unknown as GPU;
      return await dawnInstance.requestAdapter({ powerPreference: req.powerPreference ?? 'high-performance' });
    } catch (err) {
      throw dawnError((err as Error).message);
    }
  },
  noAdapterFix: 'install a Vulkan driver; on Debian without a GPU run `sudo bash scripts/install-vulkan-cpu.sh` (Mesa lavapipe >= 23 from bookworm-backports)',
  env: (name) => process.env[name],
  throttleGpuPolling: throttleDawnPolling,
  totalMemory: totalmem,
  store: {
    path: storePath,
    read(name) {
      try {
        return readFileSync(storePath(name), 'utf8');
      } catch {
        return null;
      }
    },
    write(name, text) {
      const path = storePath(name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, text);
    },
  },
};

setPlatform(nodePlatform);
