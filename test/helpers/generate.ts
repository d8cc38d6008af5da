// Global setup: what the build generates (the embedded WGSL module, the web bundle), so that `npx vitest` on a
// fresh checkout tests the current shaders and app.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '../..');
  for (const script of ['gen-shaders.mjs', 'build-web.mjs']) execFileSync(process.execPath, [join(root, 'scripts', script)], { stdio: 'inherit' });
}
