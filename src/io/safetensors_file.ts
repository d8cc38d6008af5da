// safetensors files (Node): the codec is ./safetensors.ts.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from './safetensors.js';

export function writeSafetensors(path: string, tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function readSafetensors(path: string): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(path), path);
}
