// The entry scripts (bin/comi.js, train.js) run the CLI in a child process whose stderr passes through a filter:
// Dawn prints two "Warning: max… artificially reduced …" lines from C++ straight to file descriptor 2 whenever an
// adapter opens, so a one-line error would read as three. Signals reach the child once (it has its own session, so
// the terminal's Ctrl-C goes to the launcher alone, which forwards it); if the launcher dies, the child stops too.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const CHILD_ENV = 'COMI_LAUNCHED';
const DAWN_WARNING = /^Warning: max\w+ artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;
const NATIVE_FRAME = /^\s+at \S+ \(.*\.cpp:\d+\)$/;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Whether progress may redraw in place: the launcher's stderr is a terminal even though the child's is a pipe. */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true || process.env.COMI_STDERR_TTY === '1';
}

/** In the child: stop at once when the launcher is gone (kill -9 of the launcher must not leave a run going). */
export function followLauncher(): void {
  if (process.env[CHILD_ENV] !== '1' || !process.send) return;
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  process.channel?.unref();
}

/** Drops Dawn's limit warnings from text written in chunks; holds back a partial line only while it may become one. */
export function dawnWarningFilter(write: (s: string) => void): { push: (chunk: string) => void; end: () => void } {
  let pending = '';
  const push = (chunk: string) => {
    pending += chunk;
    let out = '';
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!DAWN_WARNING.test(line) && !NATIVE_FRAME.test(line)) out += `${line}\n`;
    }
    const head = pending.slice(0, 9);
    if (pending && !'Warning: '.startsWith(head)) {
      out += pending; // progress redraws end without a newline: shown as they come
      pending = '';
    }
    if (out) write(out);
  };
  return { push, end: () => pending && write(pending) };
}

/** Runs the CLI module `entry` with `args` as its argv in a filtered child (or in this process, when it is one). */
export async function launch(entry: URL, args: string[]): Promise<void> {
  if (process.env[CHILD_ENV] === '1') {
    // Started from a launched command (it filters already): run here.
    process.argv.splice(2, process.argv.length - 2, ...args);
    await import(entry.href);
    return;
  }
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(entry), ...args], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    detached: true,
    env: { ...process.env, [CHILD_ENV]: '1', COMI_STDERR_TTY: process.stderr.isTTY ? '1' : '' },
  });
  const filter = dawnWarningFilter((s) => process.stderr.write(s));
  child.stderr!.setEncoding('utf8').on('data', filter.push);
  for (const sig of FORWARDED) process.on(sig, () => child.kill(sig));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  filter.end();
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1));
}
