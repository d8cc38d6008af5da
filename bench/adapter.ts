// The adapter's features (also the experimental ones Dawn lists with its unsafe APIs allowed, and any subgroup
// matrix shapes), then one line naming the adapter and the features the device checks depend on
// (bench/device.sh reads that last line: it must not be lavapipe on a GPU machine, and shader-f16 decides whether
// the correction benchmark also runs f16 maps).
import { create } from 'webgpu';
import { benchGpu } from './harness.js';

const { gpu } = await benchGpu();
// The adapter's whole feature list first (what a GPU offers beyond what the engine asks for, e.g. subgroup matrices).
console.log(`adapter features: ${[...(gpu.adapter.features as unknown as Iterable<string>)].sort().join(' ')}`);
// Dawn lists experimental features (subgroup matrices: tensor cores through WebGPU) only with its unsafe APIs allowed.
const unsafe = create(['enable-dawn-features=allow_unsafe_apis']) as unknown as GPU;
const experimental = await unsafe.requestAdapter({ powerPreference: 'high-performance' });
const extra = [...((experimental?.features ?? []) as Iterable<string>)].filter((f) => !gpu.adapter.features.has(f)).sort();
console.log(`experimental features (allow_unsafe_apis): ${extra.join(' ') || 'none'}`);
const configs = (experimental?.info as unknown as { subgroupMatrixConfigs?: { componentType: string; resultComponentType: string; M: number; N: number; K: number }[] } | undefined)?.subgroupMatrixConfigs;
if (configs?.length) console.log(`subgroup matrix configs: ${configs.map((c) => `${c.componentType}→${c.resultComponentType} ${c.M}×${c.N}×${c.K}`).join(', ')}`);
console.log(`${gpu.adapterName} | shader-f16 ${gpu.features.has('shader-f16')} | subgroups ${gpu.features.has('subgroups')} | storage buffers ${gpu.limits.maxStorageBuffersPerShaderStage}`);
process.exit(0);
