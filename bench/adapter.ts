// One line naming the WebGPU adapter and the features the device checks depend on (bench/device.sh reads it: it must
// not be lavapipe on a GPU machine, and shader-f16 decides whether the correction benchmark also runs f16 maps).
import { benchGpu } from './harness.js';

const { gpu } = await benchGpu();
console.log(`${gpu.adapterName} | shader-f16 ${gpu.features.has('shader-f16')} | subgroups ${gpu.features.has('subgroups')} | storage buffers ${gpu.limits.maxStorageBuffersPerShaderStage}`);
process.exit(0);
