// Files that ship inside the package (shaders/, models/): found by walking up from this module to package.json, so
// the same code works from src/ under vitest and from dist/ after the build.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json and `child`. */
export function packageDir(child: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, child)) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`cannot find the ${child}/ folder next to package.json`);
}
