// The system Chromium (Debian package `chromium`) for the browser tests; they skip with this message without it.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const chromium = (process.env.PATH ?? '').split(delimiter).flatMap((d) => ['chromium', 'chromium-browser'].map((n) => join(d, n))).find((p) => existsSync(p));

export const NO_CHROMIUM = 'headless Chromium not found: install the Debian package `chromium` (apt-get install -y chromium) to run the browser test';
