/** A one-line terminal progress bar on stderr: redrawn in place on a TTY, a line per 10% otherwise. */
export class ProgressBar {
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly tty: boolean;
  private readonly t0 = performance.now();

  constructor(private readonly total: number, private readonly label: string, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Shows `done` of `total` with a status text; draws at most every 100 ms on a TTY. */
  update(done: number, status: string, force = false): void {
    const frac = Math.min(1, done / this.total);
    const now = performance.now();
    if (this.tty) {
      if (!force && now - this.lastDraw < 100 && frac < 1) return;
      this.lastDraw = now;
      const width = 28, fill = Math.round(frac * width);
      const eta = frac > 0 ? ((now - this.t0) / 1000) * (1 / frac - 1) : 0;
      this.stream.write(`\r${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${status} eta ${eta.toFixed(0)}s\x1b[K`);
    } else {
      const decile = Math.floor(frac * 10);
      if (decile === this.lastDecile && !force) return;
      this.lastDecile = decile;
      this.stream.write(`${this.label} ${(frac * 100).toFixed(0).padStart(3)}% ${status}\n`);
    }
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.tty) this.stream.write('\n');
  }
}
