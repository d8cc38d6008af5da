// Acquires one WebGPU device through Dawn's Node bindings and keeps it for the process.
import { create, globals } from 'webgpu';

export interface DeviceOptions {
  /** Dawn backend: 'vulkan', 'opengles', 'null', … (env COMI_BACKEND). */
  backend?: string;
  /** Exact adapter name as Dawn lists it (env COMI_ADAPTER). */
  adapter?: string;
  powerPreference?: GPUPowerPreference;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  adapterName: string;
  features: ReadonlySet<string>;
  limits: GPUSupportedLimits;
}

export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(
      `no WebGPU adapter found${detail ? ` (${detail})` : ''}: install a Vulkan driver; ` +
        'on Debian without a GPU run `sudo bash scripts/install-vulkan-cpu.sh` (Mesa lavapipe >= 23 from bookworm-backports)',
    );
    this.name = 'NoAdapterError';
  }
}

// Dawn's instance dies with a futex error or SIGSEGV if the object create() returns is collected: keep it here.
let dawnInstance: GPU | null = null;
let current: Promise<GpuContext> | null = null;
let lostReason: string | null = null;

function dawnFlags(opts: DeviceOptions): string[] {
  const flags: string[] = [];
  const backend = opts.backend ?? process.env.COMI_BACKEND;
  const adapter = opts.adapter ?? process.env.COMI_ADAPTER;
  if (backend) flags.push(`backend=${backend}`);
  if (adapter) flags.push(`adapter=${adapter}`);
  return flags;
}

/** Dawn rejects an unknown adapter name with "no suitable backends found" and lists the adapters it has on the
 * following lines: keep those names on the one line the user sees. */
function dawnDetail(message: string): string {
  const [first, ...rest] = message.split('\n');
  const names = rest.map((line) => /name: '([^']*)'/.exec(line)?.[1]).filter(Boolean);
  return names.length ? `${first}; Dawn has: ${names.join(', ')}` : first;
}

async function open(opts: DeviceOptions): Promise<GpuContext> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  Object.assign(globalThis, globals);
  let adapter: GPUAdapter | null = null;
  const wantedName = opts.adapter ?? process.env.COMI_ADAPTER;
  const named = (detail: string) => [wantedName && `adapter '${wantedName}'`, detail].filter(Boolean).join(': ');
  try {
    dawnInstance = create(dawnFlags(opts)) as unknown as GPU;
    adapter = await dawnInstance.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (err) {
    throw new NoAdapterError(named(dawnDetail((err as Error).message)));
  }
  if (!adapter) throw new NoAdapterError(named(''));
  const wanted = ['timestamp-query', 'shader-f16', 'subgroups'] as const;
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f)) as GPUFeatureName[];
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

/** Throws with the loss reason if the device was lost: later calls would fail with unrelated validation errors. */
export function checkDeviceAlive(): void {
  if (lostReason) throw new Error(lostReason);
}
