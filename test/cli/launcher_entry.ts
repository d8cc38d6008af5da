// bin/comi.js for tests: the launcher around the TypeScript CLI (no build needed).
import { launch } from '../../src/cli/launch.js';

await launch(new URL('../../src/cli/main.ts', import.meta.url), process.argv.slice(2));
