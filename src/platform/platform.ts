// What the engine needs from its host, in one place: the WebGPU adapter, settings, a small persistent store and
// the machine's memory. The Node entry installs ./node.ts (Dawn, process.env, files), the browser entry
// ./browser.ts (navigator.gpu); everything under src/graph, autograd, kernels, model and the decoders reaches the
// host only through platform().

export interface AdapterRequest {
  /** Dawn backend: 'vulkan', 'opengles', 'null', … (Node only). */
  backend?: string;
  /** Exact adapter name as Dawn lists it (Node only). */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
}

/** A host's refusal of an adapter request that names its own fix (an adapter name the host does not have: one it
 * has), where the platform's noAdapterFix (a driver) would mislead. */
export class AdapterRequestError extends Error {
  constructor(message: string, readonly fix: string) {
    super(message);
    this.name = 'AdapterRequestError';
  }
}

export interface Platform {
  /** 'node' or 'browser': for messages. */
  readonly name: string;
  /** The host's adapter; throws with the host's reason when it has none it can offer. */
  requestAdapter(req: AdapterRequest): Promise<GPUAdapter | null>;
  /** One sentence: how to get an adapter on this host. */
  readonly noAdapterFix: string;
  /** A setting (Node: environment variable), undefined when unset. */
  env(name: string): string | undefined;
  /** Slows the host's polling for finished GPU work while a runtime lives; returns the undo. */
  throttleGpuPolling(): () => void;
  /** Bytes of memory of the machine (bounds the pixels one image may have). */
  totalMemory(): number;
  /** Small text files kept between runs (autotune choices): where, read (null when absent), write. */
  store: {
    path(name: string): string;
    read(name: string): string | null;
    write(name: string, text: string): void;
  };
}

let current: Platform | null = null;

export function setPlatform(p: Platform): void {
  current = p;
}

export function platform(): Platform {
  if (!current) throw new Error("no platform: import comi-webgpu's Node entry or its browser entry (comi-webgpu/browser) first");
  return current;
}
