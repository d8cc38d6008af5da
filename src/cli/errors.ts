import { describeFsError } from '../io/fs_errors.js';

// Errors a user can fix (bad flag, missing file, …): printed as one line, exit code 2, no stack trace.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Runs a command's main: user errors and any other failure become one line on stderr and a non-zero exit. */
export async function runMain(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (raw) {
    const e = describeFsError(raw) as Error;
    process.stderr.write(`${name}: ${e?.message ?? String(raw)}\n`);
    if (process.env.COMI_DEBUG && (raw as Error)?.stack) process.stderr.write(`${(raw as Error).stack}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
