// The browser host: navigator.gpu, settings from the page's query string (?COMI_AUTOTUNE=0 as the environment
// variable would), autotune choices in localStorage.
import { setPlatform, type Platform } from './platform.js';

const STORE_PREFIX = 'comi:';

export const browserPlatform: Platform = {
  name: 'browser',
  async requestAdapter(req) {
    if (!globalThis.navigator?.gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
    return navigator.gpu.requestAdapter({ powerPreference: req.powerPreference ?? 'high-performance' });
  },
  noAdapterFix: 'use a browser with WebGPU enabled (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows)',
  env: (name) => new URLSearchParams(globalThis.location?.search ?? '').get(name) ?? undefined,
  // The browser schedules its own GPU callbacks: nothing to throttle.
  throttleGpuPolling: () => () => {},
  totalMemory: () => ((navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? 4) * 2 ** 30,
  store: {
    path: (name) => `localStorage ${STORE_PREFIX}${name}`,
    read: (name) => globalThis.localStorage?.getItem(STORE_PREFIX + name) ?? null,
    write: (name, text) => globalThis.localStorage?.setItem(STORE_PREFIX + name, text),
  },
};

setPlatform(browserPlatform);
