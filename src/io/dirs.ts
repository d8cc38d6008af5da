// Folders made for one output file are removed again when that file cannot be written: a failed file leaves no
// empty folder behind.
import { mkdirSync, rmdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Makes the folder of `file`; returns a function that removes the folders this call created, while empty. */
export function makeParentDirs(file: string): () => void {
  const dir = resolve(dirname(file));
  const first = mkdirSync(dir, { recursive: true });
  return () => {
    if (!first) return;
    for (let d = dir; d.length >= first.length; d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        return; // not empty (another output is there): keep it and its parents
      }
    }
  };
}
