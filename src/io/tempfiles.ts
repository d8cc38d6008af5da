// Temporary files of writeFileAtomic (.NAME.PID.tmp) left by a process that was killed while writing: removed when
// a later run opens the folder, if that process is gone.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const TEMP_NAME = /^\..+\.(\d+)\.tmp$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Removes stale temporary files in dir and its subfolders; returns their paths. */
export function removeStaleTempFiles(dir: string): string[] {
  const removed: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return removed; // no folder, nothing to clean
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) removed.push(...removeStaleTempFiles(path));
    const pid = TEMP_NAME.exec(e.name)?.[1];
    if (e.isFile() && pid !== undefined && Number(pid) !== process.pid && !alive(Number(pid))) {
      rmSync(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}
