// `comi info`: which adapter WebGPU found and its limits — the first thing to check on a new machine.
import { initGpu } from '../graph/runtime.js';

export async function infoCommand(): Promise<void> {
  const r = await initGpu();
  const { adapterName, features, limits } = r.gpu;
  const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;
  process.stdout.write(
    [
      `adapter: ${adapterName}`,
      `features: ${[...features].sort().join(', ')}`,
      `maxStorageBufferBindingSize: ${mib(limits.maxStorageBufferBindingSize)}, maxBufferSize: ${mib(limits.maxBufferSize)}`,
      `workgroup: ${limits.maxComputeInvocationsPerWorkgroup} invocations, ${limits.maxComputeWorkgroupStorageSize} bytes shared`,
    ].join('\n') + '\n',
  );
}
