/**
 * Runs an object's GPU calls one after another in call order: a call made while another is in flight waits
 * for it, and a call made when none is runs at once, so its GPU work is submitted before it returns.
 */

/** The queue of one object's calls. */
export class CallQueue {
  private count = 0;
  /** Settles when the last queued call has. */
  private tail: Promise<void> = Promise.resolve();

  /** @param checkAlive throws when the owner can no longer run calls (destroyed, device lost); checked as each call starts. */
  constructor(private readonly checkAlive: (what: string) => void) {}

  /** Calls submitted or waiting: when above 0, a new call runs later, so its inputs must be copied now. */
  get pending(): number {
    return this.count;
  }

  /**
   * Runs fn after every earlier call has finished, or at once (its GPU work submitted before this returns)
   * when none is pending, so GPU work and uploads happen in call order.
   */
  enqueue<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => {
      try {
        this.checkAlive(what);
      } catch (err) {
        return Promise.reject(err);
      }
      return fn();
    };
    const run = this.count === 0 ? guarded() : this.tail.then(guarded);
    this.count++;
    const done = () => {
      this.count--;
    };
    this.tail = run.then(done, done);
    return run;
  }

  /** Runs a synchronous upload now when nothing is pending, else after the pending calls (data already copied by the caller). */
  ordered(what: string, fn: () => void): void {
    if (this.count === 0) {
      fn();
      return;
    }
    this.enqueue(what, async () => fn()).catch(() => undefined);
  }
}
