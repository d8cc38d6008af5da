import { stderrIsTerminal } from './launch.js';

// One progress line on stderr, redrawn in place on a terminal and printed every few seconds otherwise (logs, CI).
export class Progress {
  private start = Date.now();
  private lastPrint = 0;
  private readonly tty = stderrIsTerminal();

  constructor(private label: string, private total: number, private start0 = 0) {}

  /** A search that finds more work as it goes (the RL fit's σ grid) raises its total. */
  setTotal(total: number): this {
    this.total = total;
    return this;
  }

  /** done: items finished so far (absolute); extra: short status such as current losses. */
  update(done: number, extra = '', force = false): void {
    const now = Date.now();
    if (!force && now - this.lastPrint < (this.tty ? 200 : 5000)) return;
    this.lastPrint = now;
    const elapsed = (now - this.start) / 1000;
    // Below a tenth of a second (one tile, one image) a rate would be noise such as 1000000000.00 it/s.
    const rate = elapsed >= 0.1 ? (done - this.start0) / elapsed : 0;
    const remaining = rate > 0 ? (this.total - done) / rate : Infinity;
    const pct = this.total > 0 ? Math.floor((100 * done) / this.total) : 100;
    const width = 20;
    const filled = Math.min(width, Math.max(0, Math.round((width * pct) / 100))); // never let a display end a job
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const speed = rate <= 0 ? '' : rate >= 1 ? ` ${rate.toFixed(2)} it/s` : ` ${(1 / rate).toFixed(2)} s/it`;
    const eta = done < this.total ? ` ETA ${formatDuration(remaining)}` : '';
    const line = `${this.label} ${bar} ${done}/${this.total} ${pct}%${speed}${eta}${extra ? ` ${extra}` : ''}`;
    process.stderr.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }

  done(extra = ''): void {
    this.update(this.total, extra, true);
    if (this.tty) process.stderr.write('\n');
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
