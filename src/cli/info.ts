// `comi info`: which adapter WebGPU found and its limits — the first thing to check on a new machine.
import { initGpu } from '../graph/runtime.js';
import { parseFlags, type FlagSpec } from './args.js';
import { UsageError } from './errors.js';

const FLAGS: FlagSpec = { help: { type: 'boolean', short: 'h' } };

const HELP = `usage: comi info

Shows the WebGPU adapter this machine opens, its features and the limits the engine plans with. Choose another
adapter with COMI_BACKEND=vulkan|… and COMI_ADAPTER=<name> (a name Dawn does not have is refused with the ones it has).
`;

/** Whether to print the help; throws UsageError on anything else than --help. */
export function parseInfoFlags(argv: string[]): { help: boolean } {
  const { values, positionals } = parseFlags(argv, FLAGS, true);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (comi info takes no arguments)`);
  return { help: values.help === true };
}

export async function infoCommand(argv: string[]): Promise<void> {
  if (parseInfoFlags(argv).help) {
    process.stdout.write(HELP);
    return;
  }
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
