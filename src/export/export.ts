// `comi export` as a library: a run's generator as a plain ONNX file or as a bioimage.io model package.
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { packageRoot } from '../io/package_root.js';
import { loadGenerator, type RunConfig } from '../train/run_folder.js';
import type { ResnetGenerator } from '../model/generator.js';
import type { StateDict } from '../model/module.js';
import { generatorToOnnx } from './onnx.js';

export const EXPORT_FORMATS = ['onnx', 'bioimageio'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  model: string;
  out: string;
  format: ExportFormat;
}

export interface ExportResult {
  /** Files written, the main one first. */
  files: string[];
  config: RunConfig;
}

/** This program's version (package.json), recorded as the ONNX producer. */
export function programVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'));
  return String(pkg.version);
}

/** The ONNX bytes of a loaded generator, with the run's intensity mapping in the metadata. */
export function runToOnnx(name: string, state: StateDict, generator: ResnetGenerator, config: RunConfig): Uint8Array {
  const d = config.data;
  return generatorToOnnx(state, generator.opts, {
    name,
    producerVersion: programVersion(),
    metadata: {
      'comi.normalization': d.normalization,
      ...(d.percentiles ? { 'comi.percentiles': `${d.percentiles.pLow},${d.percentiles.pHigh}` } : {}),
      'comi.config': JSON.stringify(config),
    },
  });
}

export async function exportRun(opts: ExportOptions): Promise<ExportResult> {
  const { generator, config } = await loadGenerator(opts.model);
  try {
    const name = basename(resolve(opts.model));
    mkdirSync(opts.out, { recursive: true });
    const onnxBytes = runToOnnx(name, await generator.stateDict(), generator, config);
    const path = join(opts.out, `${name}.onnx`);
    writeFileAtomic(path, onnxBytes);
    return { files: [path], config };
  } finally {
    generator.dispose();
  }
}
