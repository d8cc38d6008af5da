// Acquires one WebGPU device from the host (src/platform) and keeps it for the process or page.
import { platform, AdapterRequestError, type AdapterRequest } from '../platform/platform.js';

/** backend and adapter: Dawn's, in Node (env COMI_BACKEND, COMI_ADAPTER). */
export type DeviceOptions = AdapterRequest;

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  adapterName: string;
  features: ReadonlySet<string>;
  limits: GPUSupportedLimits;
}

export class NoAdapterError extends Error {
  /** fix: what to do, by default the platform's (install a driver). */
  constructor(detail: string, fix = platform().noAdapterFix) {
    super(`no WebGPU adapter found${detail ? ` (${detail})` : ''}: ${fix}`);
    this.name = 'NoAdapterError';
  }
}

let current: Promise<GpuContext> | null = null;
let lostReason: string | null = null;

async function open(opts: DeviceOptions): Promise<GpuContext> {
  let adapter: GPUAdapter | null = null;
  const wantedName = opts.adapter ?? platform().env('COMI_ADAPTER');
  const named = (detail: string) => [wantedName && `adapter '${wantedName}'`, detail].filter(Boolean).join(': ');
  try {
    adapter = await platform().requestAdapter(opts);
  } catch (err) {
    throw new NoAdapterError(named((err as Error).message), err instanceof AdapterRequestError ? err.fix : undefined);
  }
  if (!adapter) throw new NoAdapterError(named(''));
  const wanted = ['timestamp-query', 'shader-f16', 'subgroups'] as const;
  // COMI_DISABLE_FEATURES=shader-f16,…: a device without them, to check the paths taken where an adapter lacks them.
  const disabled = (platform().env('COMI_DISABLE_FEATURES') ?? '').split(',').map((f) => f.trim());
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f) && !disabled.includes(f)) as GPUFeatureName[];
  // Ask for the adapter's maximum buffer sizes: the defaults (128/256 MiB) are below what 256² training needs on GPUs.
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  device.lost.then((info) => {
    if (info.reason === 'destroyed') return;
    lostReason = `WebGPU device lost (${info.reason}): ${info.message}`;
    console.error(lostReason);
  });
  const info = adapter.info;
  const adapterName = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { device, adapter, adapterName, features: new Set(device.features as unknown as Iterable<string>), limits: device.limits };
}

/** The process-wide GPU context; the first call decides the adapter. */
export function getGpu(opts: DeviceOptions = {}): Promise<GpuContext> {
  if (!current) {
    current = open(opts);
    current.catch(() => (current = null));
  }
  return current;
}

/** Destroys the device; the next getGpu opens a new one. */
export async function releaseGpu(): Promise<void> {
  const gpu = current;
  current = null;
  lostReason = null;
  if (gpu) (await gpu).device.destroy();
}

/** Throws with the loss reason if the device was lost: later calls would fail with unrelated validation errors. */
export function checkDeviceAlive(): void {
  if (lostReason) throw new Error(lostReason);
}
