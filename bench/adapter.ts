// The adapter's features, then one line naming the adapter and the features the device checks depend on
// (bench/device.sh reads that last line: it must not be lavapipe on a GPU machine, and shader-f16 decides whether
// the correction benchmark also runs f16 maps).
import { benchGpu } from './harness.js';

const { gpu } = await benchGpu();
// The adapter's whole feature list first (what a GPU offers beyond what the engine asks for, e.g. subgroup matrices).
console.log(`adapter features: ${[...(gpu.adapter.features as unknown as Iterable<string>)].sort().join(' ')}`);
console.log(`${gpu.adapterName} | shader-f16 ${gpu.features.has('shader-f16')} | subgroups ${gpu.features.has('subgroups')} | storage buffers ${gpu.limits.maxStorageBuffersPerShaderStage}`);
process.exit(0);
